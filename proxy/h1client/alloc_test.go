package h1client_test

import (
	"bytes"
	"net/http"
	"testing"
)

// cannedBackend answers every request head it reads with one canned
// response, allocating nothing per request (testing.AllocsPerRun counts
// the whole process).
func cannedBackend(t testing.TB) *backend {
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\nX-Request-Id: 0123456789\r\n" +
		"Cache-Control: no-store\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\nok")
	end := []byte("\r\n\r\n")
	return newBackend(t, func(c *bconn) {
		buf := make([]byte, 8192)
		have := 0
		for {
			n, err := c.Conn.Read(buf[have:])
			if err != nil {
				return
			}
			have += n
			for {
				i := bytes.Index(buf[:have], end)
				if i < 0 {
					break
				}
				if _, err := c.Conn.Write(resp); err != nil {
					return
				}
				have = copy(buf, buf[i+len(end):have])
			}
		}
	})
}

// sink is a ResponseWriter that keeps nothing but its header map, cleared
// (not reallocated) between requests.
type sink struct {
	h    http.Header
	code int
	n    int
}

func (w *sink) Header() http.Header         { return w.h }
func (w *sink) WriteHeader(code int)        { w.code = code }
func (w *sink) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// TestAllocsWarmGET: a GET on a warm pooled connection costs a few
// allocations inside Forward (the head's string and the header values'
// backing array), however many fields the response has.
func TestAllocsWarmGET(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
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
	if allocs > 4 {
		t.Errorf("%.1f allocations per warm GET, want at most 4", allocs)
	}
	if a := b.accepts.Load(); a != 1 {
		t.Errorf("%d connections, want 1", a)
	}
}

// BenchmarkForwardGET is one GET on a warm connection to a canned
// backend over loopback.
func BenchmarkForwardGET(b *testing.B) {
	be := cannedBackend(b)
	f := newForwarder(b, testOpts())
	tgt := be.target()
	out := newOut("GET", "/bench", nil, 0)
	w := &sink{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		if err := f.Forward(w, out, tgt, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForwardGETParallel is BenchmarkForwardGET from concurrent
// clients, each with its own pooled connection.
func BenchmarkForwardGETParallel(b *testing.B) {
	be := cannedBackend(b)
	o := testOpts()
	o.MaxIdleConns = 64
	f := newForwarder(b, o)
	tgt := be.target()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		out := newOut("GET", "/bench", nil, 0)
		w := &sink{h: http.Header{}}
		for pb.Next() {
			clear(w.h)
			if err := f.Forward(w, out, tgt, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
