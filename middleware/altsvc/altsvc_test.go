package altsvc

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAltSvc(t *testing.T) {
	h := New(8443)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if got := rec.Header().Get("Alt-Svc"); got != `h3=":8443"; ma=86400` {
		t.Errorf("Alt-Svc %q", got)
	}
}
