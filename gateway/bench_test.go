package gateway_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/gateway"
)

// The benchmarks send a GET through the whole runtime handler (client IP,
// request ID, path normalization, routing, header rewriting, the
// forwarder's pooled keep-alive connection, streaming the 1 KiB answer),
// driven in-process: no listener or client socket on Gatehouse's side, a
// reused inbound request, and a ResponseWriter that discards. ns/op and
// allocs/op are what Gatehouse spends per request beyond net/http's server
// side (reading the request, writing the response), plus the loopback
// round trip to the backend.
//
// backend=canned answers from a hand-written loop that allocates nothing
// per request, so every allocation counted is Gatehouse's (its forwarder
// included). backend=httptest is an httptest.Server; its net/http server
// allocations are counted too, since it runs in the same process.
//
//	go test ./gateway -run '^$' -bench ServeHTTP -benchmem
//	go test ./gateway -run '^$' -bench 'ServeHTTP$/canned' -benchmem -memprofile mem.prof
//	go tool pprof -sample_index=alloc_space -top gateway.test mem.prof

const benchConfig = `
listeners:
  - address: 127.0.0.1:8080 # never bound: the benchmark calls the handler
log:
  access: false
upstreams:
  backend:
    targets: ["${BACKEND}"]
    health:
      passive: {max_fails: 0}
routes:
  - name: all
    match: {path: /}
    upstream: backend
`

const benchBodyBytes = 1024

var benchBody = strings.Repeat("x", benchBodyBytes)

func BenchmarkServeHTTP(b *testing.B) {
	for _, bk := range benchBackends {
		b.Run("backend="+bk.name, func(b *testing.B) {
			rt := benchRuntime(b, bk.start(b))
			w := newDiscardWriter()
			r := httptest.NewRequest(http.MethodGet, "http://bench.local/", nil)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				w.reset()
				rt.ServeHTTP(w, r)
				if w.status != http.StatusOK || w.n != benchBodyBytes {
					b.Fatalf("got status %d, %d bytes; want 200, %d", w.status, w.n, benchBodyBytes)
				}
			}
		})
	}
}

// browserHeaders are what a browser sends with a page request, so the
// outbound header has the size it has in real traffic.
var browserHeaders = map[string]string{
	"User-Agent":      "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
	"Accept":          "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
	"Accept-Encoding": "gzip, deflate, br, zstd",
	"Accept-Language": "en-GB,en;q=0.9",
	"Cookie":          "session=abc123; theme=dark",
	"Referer":         "http://bench.local/index.html",
	"Sec-Fetch-Mode":  "navigate",
	"Cache-Control":   "max-age=0",
}

// BenchmarkServeHTTPBrowser is ServeHTTP with a browser's request header.
func BenchmarkServeHTTPBrowser(b *testing.B) {
	rt := benchRuntime(b, cannedBackend(b))
	w := newDiscardWriter()
	r := httptest.NewRequest(http.MethodGet, "http://bench.local/", nil)
	for k, v := range browserHeaders {
		r.Header.Set(k, v)
	}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		rt.ServeHTTP(w, r)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

// TestAllocationsPerGET holds the proxied GET to its allocation budget
// (README, Performance): 20 with a browser's header.
func TestAllocationsPerGET(t *testing.T) {
	rt := benchRuntime(t, cannedBackend(t))
	w := newDiscardWriter()
	r := httptest.NewRequest(http.MethodGet, "http://bench.local/", nil)
	for k, v := range browserHeaders {
		r.Header.Set(k, v)
	}
	rt.ServeHTTP(w, r) // warm the pool
	n := testing.AllocsPerRun(200, func() {
		w.reset()
		rt.ServeHTTP(w, r)
	})
	if n > 20 {
		t.Errorf("%v allocations per proxied GET, budget 20", n)
	}
}

func BenchmarkServeHTTPParallel(b *testing.B) {
	for _, bk := range benchBackends {
		b.Run("backend="+bk.name, func(b *testing.B) {
			rt := benchRuntime(b, bk.start(b))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := newDiscardWriter()
				r := httptest.NewRequest(http.MethodGet, "http://bench.local/", nil)
				for pb.Next() {
					w.reset()
					rt.ServeHTTP(w, r)
					if w.status != http.StatusOK || w.n != benchBodyBytes {
						b.Errorf("got status %d, %d bytes; want 200, %d", w.status, w.n, benchBodyBytes)
						return
					}
				}
			})
		})
	}
}

// benchRuntime compiles benchConfig with the backend at url and starts it.
func benchRuntime(b testing.TB, url string) *gateway.Runtime {
	b.Helper()
	lookup := func(k string) (string, bool) {
		if k == "BACKEND" {
			return url, true
		}
		return "", false
	}
	cfg, err := config.Load([]byte(benchConfig), "bench.yaml", lookup)
	if err != nil {
		b.Fatal(err)
	}
	rt, err := gateway.Compile(cfg, gateway.NewEnv(nil, nil))
	if err != nil {
		b.Fatal(err)
	}
	rt.Start()
	b.Cleanup(func() { rt.Retire(context.Background()) })
	return rt
}

var benchBackends = []struct {
	name  string
	start func(testing.TB) string
}{
	{"canned", cannedBackend},
	{"httptest", httptestBackend},
}

// httptestBackend answers every request with benchBody.
func httptestBackend(tb testing.TB) string {
	ctype, clen := []string{"text/plain"}, []string{"1024"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"], h["Content-Length"] = ctype, clen
		w.Write([]byte(benchBody))
	}))
	tb.Cleanup(srv.Close)
	return srv.URL
}

// cannedBackend is a keep-alive HTTP/1.1 server for bodiless requests that
// writes the same bytes for each and allocates nothing per request.
func cannedBackend(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1024\r\n\r\n" + benchBody)
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { serveCanned(c, resp) })
		}
	})
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + ln.Addr().String()
}

func serveCanned(c net.Conn, resp []byte) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 4096)
	for {
		for { // the header ends with an empty line
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) <= 2 {
				break
			}
		}
		if _, err := c.Write(resp); err != nil {
			return
		}
	}
}

// discardWriter is a ResponseWriter that keeps the status and counts the
// body; reset readies it for the next request without allocating.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func newDiscardWriter() *discardWriter { return &discardWriter{h: make(http.Header)} }

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += len(p)
	return len(p), nil
}

func (w *discardWriter) Flush() {}

func (w *discardWriter) reset() {
	clear(w.h)
	w.status, w.n = 0, 0
}

var (
	_ http.ResponseWriter = (*discardWriter)(nil)
	_ http.Flusher        = (*discardWriter)(nil)
)
