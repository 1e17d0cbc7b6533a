package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

func TestActiveHealth(t *testing.T) {
	t.Parallel()
	a := testkit.NewBackend(t, "a", nil)
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
upstreams:
  pool:
    targets: ["${A}", "${B}"]
    health:
      active: {path: /healthz, interval: 50ms, timeout: 50ms, healthy_threshold: 1, unhealthy_threshold: 2}
      passive: {max_fails: 0}
routes:
  - {match: {path: /}, upstream: pool}
`, testkit.Vars{"A": a.URL, "B": b.URL})

	testkit.Eventually(t, 5*time.Second, func() bool { return a.Probes() > 0 && b.Probes() > 0 }, "no probes")
	if got := sendN(g, 4, "/"); got["a"] != 2 || got["b"] != 2 {
		t.Fatalf("healthy split %v", got)
	}

	b.SetHealthy(false)
	g.Logs.Wait(t, 5*time.Second, "upstream target down", "target", b.URL, "check", "active")
	if got := sendN(g, 20, "/"); got["a"] != 20 {
		t.Fatalf("with b down: %v, want all 20 on a", got)
	}

	b.SetHealthy(true)
	g.Logs.Wait(t, 5*time.Second, "upstream target healthy", "target", b.URL)
	testkit.Eventually(t, 5*time.Second, func() bool { return sendN(g, 2, "/")["b"] > 0 },
		"b healthy again but gets no traffic")
}

// TestPassiveHealth kills a target: it is ejected after max_fails failed
// requests, gets nothing during its first backoff (1s) even when it is
// back, and then earns its way back with a trial request, well before the
// cooldown (10s) that used to keep it out.
func TestPassiveHealth(t *testing.T) {
	t.Parallel()
	a := testkit.NewBackend(t, "a", nil)
	b := testkit.NewBackend(t, "b", nil)
	const backoff = time.Second
	g := testkit.Start(t, `
upstreams:
  pool:
    targets: ["${A}", "${B}"]
    health: {passive: {max_fails: 2, cooldown: 10s}}
    retry: {attempts: 1}
routes:
  - {match: {path: /}, upstream: pool}
`, testkit.Vars{"A": a.URL, "B": b.URL})

	b.Kill()
	// Round robin alternates a, b; with retries off each try of b is a 502.
	var ejectedAt time.Time
	fails := 0
	for i := 0; fails < 2; i++ {
		if i > 10 {
			t.Fatalf("only %d failures in %d requests", fails, i)
		}
		res, body := g.Get("/")
		switch {
		case res.StatusCode == http.StatusBadGateway:
			fails++
			ejectedAt = time.Now()
		case body != "a":
			t.Fatalf("request %d: %d %q", i, res.StatusCode, body)
		}
	}
	g.Logs.Wait(t, time.Second, "upstream target ejected", "target", b.URL, "fails", 2, "trial_after", "1s")

	b.Restart()
	for time.Since(ejectedAt) < backoff-300*time.Millisecond {
		res, body := g.Get("/")
		if res.StatusCode != 200 || body != "a" {
			t.Fatalf("%s into the backoff: %d %q, want a", time.Since(ejectedAt), res.StatusCode, body)
		}
	}
	if n := b.Hits(); n != 0 {
		t.Fatalf("b got %d requests during its backoff", n)
	}
	testkit.Eventually(t, 3*time.Second, func() bool { return sendN(g, 2, "/")["b"] > 0 },
		"b gets no traffic after its backoff")
	g.Logs.Wait(t, time.Second, "upstream target back after ejection", "target", b.URL)
	if d := time.Since(ejectedAt); d > 5*time.Second {
		t.Errorf("b back after %s, want about its 1s backoff", d)
	}
}

// TestNoHealthyTarget: when every target is out, clients get 503 with the
// funnel's message, and the log says why. Only active checks can take every
// target out: passive ejections never refuse a whole pool (the last target
// in service stays, and panic mode routes to ejected ones; see
// panic_test.go).
func TestNoHealthyTarget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, health string
		prepare      func(t *testing.T, g *testkit.Gatehouse, b *testkit.Backend)
	}{
		{
			name:   "active check down",
			health: "{active: {path: /healthz, interval: 50ms, timeout: 50ms, unhealthy_threshold: 1}}",
			prepare: func(t *testing.T, g *testkit.Gatehouse, b *testkit.Backend) {
				b.SetHealthy(false)
				g.Logs.Wait(t, 5*time.Second, "upstream target down", "target", b.URL)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := testkit.NewBackend(t, "only", nil)
			g := testkit.Start(t, `
upstreams:
  pool:
    targets: ["${B}"]
    health: `+tc.health+`
    retry: {attempts: 1}
routes:
  - {name: r, match: {path: /}, upstream: pool}
`, testkit.Vars{"B": b.URL})
			tc.prepare(t, g, b)
			hits := b.Hits()

			res, body := g.Get("/x")
			if res.StatusCode != http.StatusServiceUnavailable || body != "503 service unavailable: no healthy upstream target\n" {
				t.Errorf("text: %d %q", res.StatusCode, body)
			}
			res, body = g.Get("/x", "Accept", "application/json")
			var msg map[string]any
			if err := json.Unmarshal([]byte(body), &msg); err != nil || res.StatusCode != 503 ||
				msg["status"] != 503.0 || msg["error"] != "service unavailable: no healthy upstream target" {
				t.Errorf("json: %d %q", res.StatusCode, body)
			}
			e := g.Logs.Wait(t, time.Second, "request failed", "status", 503, "route", "r", "upstream", "pool", "level", "WARN")
			if !strings.Contains(e.Str("error"), `upstream "pool" has no healthy target (0 of 1 available)`) {
				t.Errorf("log error %q", e.Str("error"))
			}
			if n := b.Hits() - hits; n != 0 {
				t.Errorf("the unavailable target got %d requests", n)
			}
		})
	}
}

// TestPassiveFailStatus: answers with a fail_status count as failures (the
// answer itself is still relayed) and eject the target.
func TestPassiveFailStatus(t *testing.T) {
	t.Parallel()
	a := testkit.NewBackend(t, "a", nil)
	b := testkit.NewBackend(t, "b", testkit.Fixed(503, "overloaded"))
	g := testkit.Start(t, `
upstreams:
  pool:
    targets: ["${A}", "${B}"]
    health: {passive: {max_fails: 2, cooldown: 1m, fail_status: [503]}}
routes:
  - {match: {path: /}, upstream: pool}
`, testkit.Vars{"A": a.URL, "B": b.URL})

	got := sendN(g, 4, "/") // a, b, a, b
	if got["a"] != 2 || got["503 Service Unavailable"] != 2 {
		t.Fatalf("first round %v: the 503s must be relayed, not retried", got)
	}
	g.Logs.Wait(t, time.Second, "upstream target ejected", "target", b.URL)
	if got := sendN(g, 10, "/"); got["a"] != 10 {
		t.Errorf("after ejection %v, want all on a", got)
	}
}

// TestClientGoneIsNotTargetFailure: clients that hang up, before or during
// the response, say nothing about the target.
func TestClientGoneIsNotTargetFailure(t *testing.T) {
	t.Parallel()
	next := make(chan struct{}) // never closed: the stream stays open
	gate := testkit.NewGate()   // never released
	sse, held := testkit.SSE(next), gate.Wrap(nil)
	b := testkit.NewBackend(t, "b", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/events":
			sse.ServeHTTP(w, r)
		case "/held":
			held.ServeHTTP(w, r)
		default:
			testkit.Echo().ServeHTTP(w, r)
		}
	}))
	g := testkit.Start(t, `
upstreams:
  pool:
    targets: ["${B}"]
    health: {passive: {max_fails: 1, cooldown: 1m}}
routes:
  - {match: {path: /}, upstream: pool}
`, testkit.Vars{"B": b.URL})

	for i := range 2 {
		// Hang up mid-stream.
		c := testkit.Dial(t, g.Addr)
		c.Send("GET /events HTTP/1.1\nHost: x\n\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.R.ReadString('\n'); err != nil {
			t.Fatalf("stream %d: %v", i, err)
		}
		c.Close()
		// Hang up while waiting for the response header.
		c = testkit.Dial(t, g.Addr)
		c.Send("GET /held HTTP/1.1\nHost: x\n\n")
		gate.WaitArrived(t, 5*time.Second)
		c.Close()
	}
	testkit.Eventually(t, 5*time.Second, func() bool { return len(g.Logs.Match("request failed", "status", 499)) == 4 },
		"the four hang-ups were not logged as 499")
	if res, body := g.Get("/"); res.StatusCode != 200 {
		t.Fatalf("after clients hung up: %d %q, the target was ejected", res.StatusCode, body)
	}
	if e := g.Logs.Match("upstream target ejected"); len(e) > 0 {
		t.Errorf("target ejected: %v", e[0])
	}
	for _, e := range g.Logs.Match("request failed", "status", 499) {
		if e.Str("level") != "INFO" {
			t.Errorf("client hang-up logged at %s", e.Str("level"))
		}
	}
}

// TestMaxConns: with max_conns 1, requests to a target wait for its one
// connection instead of opening more.
func TestMaxConns(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	cur, peak := 0, 0
	b := testkit.NewBackend(t, "b", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cur++
		peak = max(peak, cur)
		mu.Unlock()
		time.Sleep(20 * time.Millisecond) // the work being measured, not synchronization
		mu.Lock()
		cur--
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	g := testkit.Start(t, `
upstreams:
  pool: {targets: ["${B}"], max_conns: 1}
routes:
  - {match: {path: /}, upstream: pool}
`, testkit.Vars{"B": b.URL})

	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if r := <-getAsync(g, "/"); r.err != nil || r.status != 200 {
				t.Errorf("request: %+v", r)
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if peak != 1 {
		t.Errorf("the backend saw %d concurrent requests with max_conns 1", peak)
	}
}
