package bodylimit

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/splice"
)

// fakeSource is a body that "splices" by counting what it was asked to
// move (no socket), and reads the rest.
type fakeSource struct {
	io.Reader
	moved int64
	asked []int64
}

func (f *fakeSource) Close() error { return nil }

func (f *fakeSource) SpliceTo(dst *net.TCPConn, max int64, h splice.Hooks) (int64, error) {
	f.asked = append(f.asked, max)
	n, err := io.CopyN(io.Discard, f.Reader, max)
	f.moved += n
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// TestSpliceWithinLimit: the limit passes SpliceTo down, never for more
// than the limit left; reads after it count from what was moved, and
// reading past the limit is still *http.MaxBytesError.
func TestSpliceWithinLimit(t *testing.T) {
	src := &fakeSource{Reader: strings.NewReader(strings.Repeat("x", 30))}
	l := newLimited(httptest.NewRecorder(), src, 20)
	var s splice.Source = l
	n, err := s.SpliceTo(nil, 100, splice.Hooks{})
	if n != 20 || err != nil || src.asked[0] != 20 {
		t.Fatalf("SpliceTo: %d, %v, asked for %v; want 20 of 20 at most", n, err, src.asked)
	}
	if n, err := s.SpliceTo(nil, 100, splice.Hooks{}); !splice.Unsupported(n, err) {
		t.Errorf("SpliceTo at the limit: %d, %v; want nothing done (the read tells)", n, err)
	}
	_, err = io.ReadAll(l)
	var mb *http.MaxBytesError
	if !errors.As(err, &mb) || mb.Limit != 20 {
		t.Errorf("reading past the limit after a splice: %v, want *http.MaxBytesError", err)
	}

	src = &fakeSource{Reader: strings.NewReader(strings.Repeat("x", 30))}
	l = newLimited(httptest.NewRecorder(), src, 20)
	io.ReadFull(l, make([]byte, 15))
	if n, err := l.SpliceTo(nil, 100, splice.Hooks{}); n != 5 || err != nil {
		t.Errorf("SpliceTo after reading 15 of 20: %d, %v; want 5", n, err)
	}
}
