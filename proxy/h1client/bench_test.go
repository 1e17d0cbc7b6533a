package h1client_test

import (
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// kibBackend answers every request head with a 1 KiB body and the
// header fields nginx sends for a static file, allocating nothing per
// request.
func kibBackend(t testing.TB) *backend {
	body := strings.Repeat("x", 1024)
	resp := []byte("HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n" +
		"Content-Type: application/octet-stream\r\nContent-Length: 1024\r\n" +
		"Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\nConnection: keep-alive\r\n" +
		"ETag: \"65920080-400\"\r\nAccept-Ranges: bytes\r\n\r\n" + body)
	return answeringBackend(t, resp)
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// BenchmarkForwardGET1K is one 1 KiB GET, as the proxy forwards it (a
// few request fields, the production timeouts), on a warm connection to
// a loopback backend. Besides ns/op it reports the CPU time of the whole
// process per request (the backend's included): cpu-ns/op, of which
// user-ns/op outside the kernel (the kernel samples the split, the total
// is exact). The machine's other load disturbs them less than the wall
// time of a round trip.
func BenchmarkForwardGET1K(b *testing.B) {
	be := kibBackend(b)
	o := testOpts()
	o.ResponseHeaderTimeout, o.SendTimeout, o.ReadTimeout = 60*time.Second, 60*time.Second, 60*time.Second
	o.IdleConnTimeout, o.MaxIdleConns = 90*time.Second, 128
	f := newForwarder(b, o)
	tgt := be.target()
	out := newOut("GET", "/1k.bin", nil, 0)
	out.Header["User-Agent"] = []string{"wrk"}
	out.Header["Accept"] = []string{"*/*"}
	out.Header["X-Forwarded-For"] = []string{"127.0.0.1"}
	out.Header["X-Forwarded-Proto"] = []string{"http"}
	out.Header["X-Forwarded-Host"] = []string{"gatehouse.test"}
	w := &sink{h: http.Header{}}
	forward := func() {
		clear(w.h)
		if err := f.Forward(w, out, tgt, nil); err != nil || w.code != 200 || w.n != 1024 {
			b.Fatalf("Forward: %d, %d bytes, %v", w.code, w.n, err)
		}
		w.n = 0
	}
	forward() // the connection
	b.ReportAllocs()
	u0, s0 := cpuTime(b)
	for b.Loop() {
		forward()
	}
	u1, s1 := cpuTime(b)
	n := float64(b.N)
	b.ReportMetric(float64(u1-u0)/n, "user-ns/op")
	b.ReportMetric(float64(u1-u0+s1-s0)/n, "cpu-ns/op")
}
