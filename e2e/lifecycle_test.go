package e2e

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestGracefulShutdown: Shutdown stops accepting at once but lets the
// request in flight finish, and returns only after it has.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	gate := testkit.NewGate()
	b := testkit.NewBackend(t, "slow", gate.Wrap(nil))
	g := testkit.Start(t, `
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	inflight := getAsync(g, "/slow")
	gate.WaitArrived(t, 5*time.Second)

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- g.Server.Shutdown(ctx)
	}()
	testkit.Eventually(t, 5*time.Second, func() bool { return refused(g.Addr) }, "new connections still accepted during shutdown")
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) with a request in flight", err)
	case r := <-inflight:
		t.Fatalf("in-flight request ended before its backend answered: %+v", r)
	default:
	}

	gate.Release()
	if r := wait(t, inflight, "the in-flight request"); r.err != nil || r.status != 200 || r.body != "slow" {
		t.Errorf("in-flight request: %+v, want 200 slow", r)
	}
	if err := wait(t, shut, "Shutdown"); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// TestShutdownClosesWebSockets: upgraded connections are waited for until
// the shutdown deadline and then closed.
func TestShutdownClosesWebSockets(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "ws", testkit.WebSocketEcho())
	g := testkit.Start(t, `
routes:
  - {match: {path: /ws}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	c, _ := testkit.DialWebSocket(t, "ws://"+g.Addr+"/ws", nil)
	echoOnce(t, c, websocket.MessageText, []byte("before"))
	readErr := make(chan error, 1)
	go func() { _, _, err := c.Read(context.Background()); readErr <- err }()

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := g.Server.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with an open WebSocket: %v, want the deadline", err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("Shutdown returned after %s, before its 300ms deadline, with a WebSocket open", d)
	}
	if err := wait(t, readErr, "the WebSocket to close"); err == nil {
		t.Error("WebSocket read a message instead of closing")
	}
}

// TestReload: Apply switches new requests to the new config at once,
// including on kept-alive connections, while a request started under the
// old config finishes there.
func TestReload(t *testing.T) {
	t.Parallel()
	gate := testkit.NewGate()
	old := testkit.NewBackend(t, "old", nil)
	slow := testkit.NewBackend(t, "old-slow", gate.Wrap(nil))
	vars := testkit.Vars{"OLD": old.URL, "SLOW": slow.URL}
	g := testkit.Start(t, `
routes:
  - {match: {path: /page}, upstream: "${OLD}"}
  - {match: {path: /slow}, upstream: "${SLOW}"}
`, vars)
	if _, body := g.Get("/page"); body != "old" {
		t.Fatalf("before reload: %q", body)
	}
	inflight := getAsync(g, "/slow")
	gate.WaitArrived(t, 5*time.Second)

	if err := g.Apply(`
routes:
  - {match: {path: /page}, respond: {body: new}}
  - {match: {path: /slow}, respond: {body: new-slow}}
`); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if _, body := g.Get("/page"); body != "new" { // same kept-alive connection as before
		t.Errorf("after reload: %q, want new", body)
	}
	if _, body := g.Get("/slow"); body != "new-slow" {
		t.Errorf("after reload: /slow %q, want new-slow", body)
	}
	gate.Release()
	if r := wait(t, inflight, "the in-flight request"); r.err != nil || r.status != 200 || r.body != "old-slow" {
		t.Errorf("request in flight across the reload: %+v, want 200 old-slow", r)
	}
	if n := len(g.Logs.Match("configuration applied")); n != 2 {
		t.Errorf("%d 'configuration applied' lines, want 2", n)
	}
}

// TestReloadKeepsWebSocket applies configs that change routes, the
// upstream's transport settings and the listener's settings while a
// WebSocket is open; it keeps working throughout.
func TestReloadKeepsWebSocket(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "ws", testkit.WebSocketEcho())
	g := testkit.Start(t, `
upstreams:
  echo: {targets: ["${B}"]}
routes:
  - {match: {path: /ws}, upstream: echo}
`, testkit.Vars{"B": b.URL})

	c, _ := testkit.DialWebSocket(t, "ws://"+g.Addr+"/ws", nil)
	echoOnce(t, c, websocket.MessageText, []byte("before"))
	for i, cfg := range []string{
		`
upstreams:
  echo: {targets: ["${B}"]}
routes:
  - {match: {path: /ws}, upstream: echo}
  - {match: {path: /new}, respond: {body: new}}
`,
		`
upstreams:
  echo: {targets: ["${B}"], dial_timeout: 1s, max_idle_conns: 0}
routes:
  - {match: {path: /ws}, upstream: echo}
`,
		`
listeners: [{address: "${LISTEN}", read_header_timeout: 2s, idle_timeout: 5s}]
upstreams:
  echo: {targets: ["${B}"], dial_timeout: 1s}
routes:
  - {match: {path: /ws}, upstream: echo}
`,
	} {
		if err := g.Apply(cfg); err != nil {
			t.Fatalf("Apply %d: %v", i, err)
		}
		echoOnce(t, c, websocket.MessageText, []byte("after apply "+itoa(i)))
		c2, _ := testkit.DialWebSocket(t, "ws://"+g.Addr+"/ws", nil)
		echoOnce(t, c2, websocket.MessageBinary, []byte{byte(i)})
		c2.Close(websocket.StatusNormalClosure, "")
	}
	c.Close(websocket.StatusNormalClosure, "")
}

// TestReloadBindFailure: a config whose listener cannot bind is refused as
// a whole; the old config keeps serving on the old socket.
func TestReloadBindFailure(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	g := testkit.Start(t, `
routes:
  - {match: {path: /}, respond: {body: old}}
`, testkit.Vars{"TAKEN": taken.Addr().String()})

	err = g.Apply(`
listeners:
  - {address: "${LISTEN}"}
  - {name: second, address: "${TAKEN}"}
routes:
  - {match: {path: /}, respond: {body: new}}
`)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("Apply with a taken address: %v, want address already in use", err)
	}
	for range 3 {
		if res, body := g.Get("/"); res.StatusCode != 200 || body != "old" {
			t.Fatalf("after the failed reload: %d %q, want the old config", res.StatusCode, body)
		}
	}
	// A fresh connection is served too: the socket was not touched.
	if res, body := testkit.RoundTrip(t, g.Addr, "GET / HTTP/1.1\nHost: x\nConnection: close\n\n"); body != "old" {
		t.Errorf("fresh connection: %d %q", res.StatusCode, body)
	}
	if g.Server.Addr(taken.Addr().String()) != nil {
		t.Error("the failed listener was kept")
	}
}

// TestReloadKeepsHealth: target health lives in the Env's store, so a
// target ejected before a reload stays out after it.
func TestReloadKeepsHealth(t *testing.T) {
	t.Parallel()
	a := testkit.NewBackend(t, "a", nil)
	b := testkit.NewBackend(t, "b", nil)
	cfg := `
upstreams:
  pool:
    targets: ["${A}", "${B}"]
    health: {passive: {max_fails: 1, cooldown: 1m}}
    retry: {attempts: 1}
routes:
  - {match: {path: /}, upstream: pool}
`
	g := testkit.Start(t, cfg, testkit.Vars{"A": a.URL, "B": b.URL})
	b.Kill()
	if got := sendN(g, 2, "/"); got["a"] != 1 || got["502 Bad Gateway"] != 1 {
		t.Fatalf("first round %v", got)
	}
	g.Logs.Wait(t, time.Second, "upstream target ejected", "target", b.URL)
	if err := g.Apply(cfg + "  - {match: {path: /new}, respond: {body: new}}\n"); err != nil {
		t.Fatal(err)
	}
	if got := sendN(g, 6, "/"); got["a"] != 6 {
		t.Errorf("after reload %v: the ejected target came back", got)
	}
}

// TestReloadRemovesListener: a listener left out of a new config stops
// accepting at once, while a request in flight on it finishes.
func TestReloadRemovesListener(t *testing.T) {
	t.Parallel()
	gate := testkit.NewGate()
	b := testkit.NewBackend(t, "slow", gate.Wrap(nil))
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}"}, {name: second, address: "127.0.0.2:0"}]
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})
	second := g.Server.Addr("127.0.0.2:0").String()
	inflight := make(chan result, 1)
	go func() {
		client := testkit.NewClient()
		defer client.CloseIdleConnections()
		res, err := client.Get("http://" + second + "/slow")
		if err != nil {
			inflight <- result{err: err}
			return
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		inflight <- result{res.StatusCode, string(body), err}
	}()
	gate.WaitArrived(t, 5*time.Second)

	if err := g.Apply(`
routes:
  - {match: {path: /}, respond: {body: new}}
`); err != nil {
		t.Fatal(err)
	}
	if !refused(second) {
		t.Error("the removed listener still accepts connections")
	}
	if _, body := g.Get("/"); body != "new" {
		t.Errorf("the kept listener answers %q", body)
	}
	gate.Release()
	if r := wait(t, inflight, "the request on the removed listener"); r.err != nil || r.status != 200 || r.body != "slow" {
		t.Errorf("request in flight on the removed listener: %+v", r)
	}
}

// TestShutdownDeadlineAfterReload: Shutdown(ctx) must return by ctx's
// deadline even when a request is still running on an http.Server that a
// reload took out of service and that is draining in the background:
// because its listener's settings changed, or because it was removed.
func TestShutdownDeadlineAfterReload(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, before, after, addr string }{
		{
			name:   "settings changed",
			before: `listeners: [{address: "${LISTEN}"}]`,
			after:  `listeners: [{address: "${LISTEN}", read_header_timeout: 5s}]`,
			addr:   testkit.AnyPort,
		},
		{
			name:   "listener removed",
			before: `listeners: [{address: "${LISTEN}"}, {name: second, address: "127.0.0.2:0"}]`,
			after:  `listeners: [{address: "${LISTEN}"}]`,
			addr:   "127.0.0.2:0",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			gate := testkit.NewGate() // released only at the end of the test
			defer gate.Release()
			b := testkit.NewBackend(t, "slow", gate.Wrap(nil))
			rest := `
limits: {drain_timeout: 2s}
routes:
  - {match: {path: /}, upstream: "${B}"}
`
			g := testkit.Start(t, tc.before+rest, testkit.Vars{"B": b.URL})
			inflight := make(chan error, 1)
			go func() {
				client := testkit.NewClient()
				defer client.CloseIdleConnections()
				res, err := client.Get("http://" + g.Server.Addr(tc.addr).String() + "/slow")
				if err == nil {
					_, err = io.ReadAll(res.Body)
					res.Body.Close()
				}
				inflight <- err
			}()
			gate.WaitArrived(t, 5*time.Second)
			if err := g.Apply(tc.after + rest); err != nil {
				t.Fatal(err)
			}

			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			shut := make(chan error, 1)
			go func() { shut <- g.Server.Shutdown(ctx) }()
			select {
			case err := <-shut:
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Shutdown cut a request off and returned %v, want the deadline", err)
				}
			case <-time.After(1200 * time.Millisecond):
				t.Errorf("Shutdown with a 300ms deadline still running after %s: it waits for the replaced "+
					"server's drain (limits.drain_timeout, 2s here) instead of its own ctx", time.Since(start))
				<-shut
			}
			gate.Release()
			if err := wait(t, inflight, "the cut-off request"); err == nil {
				t.Error("the request cut off by Shutdown completed normally")
			}
		})
	}
}
