//go:build !race

package h1client_test

// The race detector changes allocation counts (sync.Pool drops items at
// random under it): this file's tests run without it.

import (
	"net/http"
	"testing"
)

// TestAllocsWarmGET: a GET on a warm pooled connection costs two
// allocations inside Forward, the head's string and the header values'
// backing array, however many fields the response has; the exchange
// lives in its connection.
func TestAllocsWarmGET(t *testing.T) {
	b := cannedBackend(t)
	f := newForwarder(t, testOpts())
	tgt := b.target()
	out := newOut("GET", "/bench?q=1", nil, 0)
	out.Header["Accept"] = []string{"*/*"}
	out.Header["X-Forwarded-For"] = []string{"192.0.2.1"}
	w := &sink{h: http.Header{}}
	run := func() {
		clear(w.h)
		if err := f.Forward(w, out, tgt, nil); err != nil || w.code != 200 {
			t.Fatalf("Forward: %d, %v", w.code, err)
		}
	}
	for range 10 {
		run() // warm: the connection, its buffers, the header map
	}
	allocs := testing.AllocsPerRun(500, run)
	t.Logf("%.1f allocations per warm GET", allocs)
	if allocs > 2 {
		t.Errorf("%.1f allocations per warm GET, want at most 2", allocs)
	}
	if a := b.accepts.Load(); a != 1 {
		t.Errorf("%d connections, want 1", a)
	}
}
