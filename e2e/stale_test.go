package e2e

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// staleBackend answers the first request on each connection with a
// keep-alive response; what it does with the connection then is closer's:
// close it at once on the next request (the race a reused keep-alive
// connection loses), or after a pause while it is idle.
func staleBackend(t *testing.T, onSecond bool, idleClose time.Duration) (url string, conns *atomic.Int32) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns = new(atomic.Int32)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			wg.Go(func() {
				defer c.Close()
				br := bufio.NewReader(c)
				if _, err := http.ReadRequest(br); err != nil {
					return
				}
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"))
				if onSecond {
					http.ReadRequest(br) // read it, then hang up without a word
					return
				}
				time.Sleep(idleClose)
			})
		}
	})
	return "http://" + ln.Addr().String(), conns
}

// TestStaleKeepAliveRetried: a GET that meets a pooled connection the
// backend has just closed is sent again on a fresh one instead of being
// answered 502, also with a single target (nothing else to retry on).
func TestStaleKeepAliveRetried(t *testing.T) {
	t.Parallel()
	url, conns := staleBackend(t, true, 0)
	g := testkit.Start(t, `
upstreams:
  one: {targets: ["${B}"], retry: {attempts: 1}}
routes:
  - {match: {path: /}, upstream: one}
`, testkit.Vars{"B": url})
	for i := range 4 {
		if res, body := g.Get("/"); res.StatusCode != 200 || body != "ok" {
			t.Fatalf("GET %d: %d %q, want 200 ok (a stale pooled connection must be retried on a fresh one)", i, res.StatusCode, body)
		}
	}
	if n := conns.Load(); n < 2 {
		t.Errorf("backend saw %d connections; the retries should have opened new ones", n)
	}
	// DELETE and PUT are idempotent too (RFC 9110 section 9.2.2), though
	// net/http's Transport replays only GET, HEAD, OPTIONS and TRACE.
	for _, m := range []string{http.MethodDelete, http.MethodPut, http.MethodDelete} {
		if res, body := g.Do(g.NewRequest(m, "/", nil)); res.StatusCode != 200 || body != "ok" {
			t.Fatalf("%s: %d %q, want 200 ok", m, res.StatusCode, body)
		}
	}
	// A POST is not repeated: the backend may have acted on it.
	res, _ := g.Do(g.NewRequest(http.MethodPost, "/", nil))
	if res.StatusCode == 200 {
		// It may have landed on a fresh connection; then a second one is
		// on the stale one.
		res, _ = g.Do(g.NewRequest(http.MethodPost, "/", nil))
	}
	if res.StatusCode != http.StatusBadGateway {
		t.Errorf("POST on a connection the backend dropped: %d, want 502 (never repeated)", res.StatusCode)
	}
}

// TestIdleCloseNoticed: a pooled connection the backend closed while it
// sat idle is noticed before reuse; the request goes on a fresh one.
func TestIdleCloseNoticed(t *testing.T) {
	t.Parallel()
	url, conns := staleBackend(t, false, 20*time.Millisecond)
	g := testkit.Start(t, `
upstreams:
  one: {targets: ["${B}"], retry: {attempts: 1}}
routes:
  - {match: {path: /}, upstream: one}
`, testkit.Vars{"B": url})
	for i := range 3 {
		if res, body := g.Get("/"); res.StatusCode != 200 || body != "ok" {
			t.Fatalf("GET %d after the backend closed its idle connection: %d %q, want 200 ok", i, res.StatusCode, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("backend saw %d connections, want 3 (one per request, the closed ones never reused)", n)
	}
}
