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
	return answeringBackend(t, resp)
}

// answeringBackend answers every request head it reads with resp,
// allocating nothing per request.
func answeringBackend(t testing.TB, resp []byte) *backend {
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
