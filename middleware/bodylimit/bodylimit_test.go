package bodylimit

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/funnel"
)

func TestBodyLimit(t *testing.T) {
	if New(Options{}, nil) != nil {
		t.Error("no limit should build no middleware")
	}
	var failed error
	fail := func(w http.ResponseWriter, r *http.Request, err error) {
		failed = err
		w.WriteHeader(funnel.Status(err))
	}
	var readErr error
	h := New(Options{Max: 10}, fail)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, readErr = io.ReadAll(r.Body)
	}))
	for _, tc := range []struct {
		name       string
		body       string
		length     int64 // -1: unknown (chunked)
		refused    bool  // before the handler
		readFailed bool  // while reading
	}{
		{"under", "12345", 5, false, false},
		{"at the limit", "1234567890", 10, false, false},
		{"declared over", "12345678901", 11, true, false},
		{"chunked over", "12345678901", -1, false, true},
		{"chunked under", "123", -1, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			failed, readErr = nil, nil
			r := httptest.NewRequest("POST", "/", strings.NewReader(tc.body))
			r.ContentLength = tc.length
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if tc.refused != (failed != nil) || tc.refused && rec.Code != 413 {
				t.Errorf("refused: %v (%d), want %v with 413", failed, rec.Code, tc.refused)
			}
			var mb *http.MaxBytesError
			if tc.readFailed != errors.As(readErr, &mb) {
				t.Errorf("read error %v, want a MaxBytesError: %v", readErr, tc.readFailed)
			}
		})
	}
}
