package e2e

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestStalledTLSHandshakeClosed: a connection to a TLS listener that
// never completes its handshake (sending nothing, or half a ClientHello)
// is closed after read_header_timeout, so a flood of them cannot hold
// connections for long.
func TestStalledTLSHandshakeClosed(t *testing.T) {
	t.Parallel()
	s := newTLSSetup(t, "http://127.0.0.1:9")
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", tls: {}, read_header_timeout: 300ms}]
`+tlsCerts+`
routes: [{respond: {body: hi}}]
`, s.vars)
	for name, prefix := range map[string]string{"nothing": "", "half a ClientHello": "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"} {
		c := testkit.Dial(t, g.Addr)
		start := time.Now()
		c.SendBytes(prefix)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := io.Copy(io.Discard, c)
		if took := time.Since(start); err != nil || took > 2*time.Second {
			t.Errorf("%s: connection ended after %s with %v, want closed after about 300ms", name, took, err)
		}
	}
}

// TestPriOnPlainListenerWithoutH2C: the HTTP/2 preface sent to a plain
// listener without h2c gets an error answer or a closed connection, never
// a route.
func TestPriOnPlainListenerWithoutH2C(t *testing.T) {
	t.Parallel()
	g := testkit.Start(t, `routes: [{respond: {body: routed}}]`, nil)
	c := testkit.Dial(t, g.Addr)
	c.SendBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	res, body, err := c.TryReadResponse("PRI")
	if err == nil && (res.StatusCode < 400 || strings.Contains(body, "routed")) {
		t.Errorf("got %d %q, want an error status or a closed connection", res.StatusCode, body)
	}
}

// TestStalledBodiesReleaseUpstream: many requests whose bodies stall,
// over HTTP/1.1 and as streams of one HTTP/2 or HTTP/3 connection, each
// end after client_body_timeout, and so do their upstream requests.
func TestStalledBodiesReleaseUpstream(t *testing.T) {
	t.Parallel()
	var active atomic.Int64
	b := testkit.NewBackend(t, "b", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		active.Add(1)
		defer active.Add(-1)
		io.Copy(io.Discard, r.Body)
	}))
	s := newTLSSetup(t, b.URL)
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", tls: {}, http3: true, client_body_timeout: 500ms}]
`+tlsCerts+`
routes: [{upstream: "${B}"}]
`, s.vars)
	for _, p := range []testkit.Protocol{testkit.HTTP1, testkit.HTTP2, testkit.HTTP3} {
		c := testkit.HTTPSClient(t, g.Addr, p, s.ca.ClientTLS("site.test", nil))
		const streams = 20
		done := make(chan int, streams)
		for range streams {
			pr, pw := io.Pipe()
			t.Cleanup(func() { pw.Close() })
			go func() {
				go pw.Write([]byte("start")) // and then nothing
				req, _ := http.NewRequest("POST", "https://site.test/", pr)
				res, err := c.Do(req)
				if err != nil {
					done <- 0
					return
				}
				res.Body.Close()
				done <- res.StatusCode
			}()
		}
		for range streams {
			if st := wait(t, done, "a stalled request to end"); st != http.StatusRequestTimeout && st != 0 {
				t.Errorf("%v: stalled body answered %d, want 408", p, st)
			}
		}
		deadline := time.Now().Add(3 * time.Second)
		for active.Load() != 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := active.Load(); n != 0 {
			t.Errorf("%v: %d upstream requests still open", p, n)
		}
	}
}

// TestHeaderListLimit: a header block over max_header_bytes is refused
// (431 or a refused stream) over HTTP/2 and HTTP/3 as over HTTP/1.1, and
// never reaches the backend.
func TestHeaderListLimit(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	s := newTLSSetup(t, b.URL)
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", tls: {}, http3: true, max_header_bytes: 16KiB}]
`+tlsCerts+`
routes: [{upstream: "${B}"}]
`, s.vars)
	for _, p := range []testkit.Protocol{testkit.HTTP1, testkit.HTTP2, testkit.HTTP3} {
		c := testkit.HTTPSClient(t, g.Addr, p, s.ca.ClientTLS("site.test", nil))
		req, _ := http.NewRequest("GET", "https://site.test/", nil)
		for i := range 8 {
			req.Header.Set("X-Big-"+itoa(i), strings.Repeat("x", 4<<10))
		}
		res, err := c.Do(req)
		if err == nil {
			res.Body.Close()
			if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("%v: 32 KiB of headers answered %d, want 431", p, res.StatusCode)
			}
		}
		if b.Hits() != 0 {
			t.Fatalf("%v: oversized headers reached the backend", p)
		}
	}
}
