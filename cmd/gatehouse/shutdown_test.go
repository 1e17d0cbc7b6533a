package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// result is the outcome of one request sent in the background.
type result struct {
	status int
	body   string
	err    error
	at     time.Time
}

// inFlight sends GET url in the background and waits until backend be has
// it, so the request is in flight inside the proxy.
func inFlight(t *testing.T, url string, be *backend) <-chan result {
	t.Helper()
	done := make(chan result, 1)
	go func() {
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
		res, err := c.Get(url)
		if err != nil {
			done <- result{err: err, at: time.Now()}
			return
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		done <- result{status: res.StatusCode, body: string(body), err: err, at: time.Now()}
	}()
	select {
	case <-be.arrived:
	case r := <-done:
		t.Fatalf("GET %s ended before reaching the backend: %+v", url, r)
	case <-time.After(waitLimit):
		t.Fatalf("GET %s did not reach the backend within %v", url, waitLimit)
	}
	return done
}

func awaitResult(t *testing.T, done <-chan result) result {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(waitLimit):
		t.Fatalf("the in-flight request did not end within %v", waitLimit)
		return result{}
	}
}

// TestGracefulShutdown: SIGTERM with a slow request in flight closes the
// listener at once, lets the request finish with 200, and exits 0 as soon
// as it has, long before the drain timeout.
func TestGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	slow := newBackend(t, "slow")
	p, addr := startRun(t, dir, func(a string) string {
		return site{addr: a, label: "A", upstream: "pool", target: slow, drain: "10s"}.String()
	})
	done := inFlight(t, "http://"+addr+"/slow?hold=1s", slow)
	sent := time.Now()
	p.signal(syscall.SIGTERM)
	p.waitMsg("shutting down; draining in-flight requests", 1)
	wantRefusedSoon(t, addr)
	select {
	case r := <-done:
		t.Fatalf("the slow request ended before new connections were refused: %+v", r)
	default:
	}

	r := awaitResult(t, done)
	if r.err != nil || r.status != 200 || r.body != "slow done\n" {
		t.Fatalf("in-flight request: status %d body %q error %v; want 200 %q", r.status, r.body, r.err, "slow done\n")
	}
	if code := p.waitExit(waitLimit); code != 0 {
		t.Fatalf("gatehouse %s, want exit code 0; output:\n%s", describeExit(code), p.output())
	}
	exit := p.exitTime()
	if exit.Before(r.at.Add(-100*time.Millisecond)) || exit.Sub(sent) > 5*time.Second {
		t.Errorf("exited %v after SIGTERM, the request ended after %v; want an exit right after the request, well before the 10s drain timeout",
			exit.Sub(sent), r.at.Sub(sent))
	}
	if out := p.output(); strings.Contains(out, "drain timed out") || !strings.Contains(out, `"msg":"stopped"`) {
		t.Errorf("want a clean stop without a drain timeout; output:\n%s", out)
	}
}

// wantRefusedSoon waits (bounded) for the listener to close.
func wantRefusedSoon(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, waitLimit)
		if err != nil {
			wantRefused(t, addr)
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("%s still accepts connections 5s after the shutdown began", addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDrainTimeout: with drain_timeout 500ms, a request that would take
// 10s is cut off and the process exits about 500ms after SIGTERM.
func TestDrainTimeout(t *testing.T) {
	dir := t.TempDir()
	slow := newBackend(t, "slow")
	p, addr := startRun(t, dir, func(a string) string {
		return site{addr: a, label: "A", upstream: "pool", target: slow, drain: "500ms"}.String()
	})
	done := inFlight(t, "http://"+addr+"/slow?hold=10s", slow)
	sent := time.Now()
	p.signal(syscall.SIGTERM)
	if code := p.waitExit(waitLimit); code != 0 {
		t.Fatalf("gatehouse %s, want exit code 0; output:\n%s", describeExit(code), p.output())
	}
	if took := p.exitTime().Sub(sent); took < 450*time.Millisecond || took > 3*time.Second {
		t.Errorf("exited %v after SIGTERM, want about the 500ms drain timeout", took)
	}
	p.waitMsg("drain timed out; remaining connections closed", 1)
	if r := awaitResult(t, done); r.err == nil {
		t.Errorf("the 10s request was not cut off: %+v", r)
	}
}

// TestSecondSignalStopsAtOnce: a second SIGTERM during the drain closes
// everything immediately.
func TestSecondSignalStopsAtOnce(t *testing.T) {
	dir := t.TempDir()
	slow := newBackend(t, "slow")
	p, addr := startRun(t, dir, func(a string) string {
		return site{addr: a, label: "A", upstream: "pool", target: slow, drain: "30s"}.String()
	})
	done := inFlight(t, "http://"+addr+"/slow?hold=20s", slow)
	p.signal(syscall.SIGTERM)
	p.waitMsg("shutting down; draining in-flight requests", 1)
	sent := time.Now()
	p.signal(syscall.SIGTERM)
	if code := p.waitExit(waitLimit); code != 0 {
		t.Fatalf("gatehouse %s, want exit code 0; output:\n%s", describeExit(code), p.output())
	}
	if took := p.exitTime().Sub(sent); took > 3*time.Second {
		t.Errorf("exited %v after the second SIGTERM, want at once", took)
	}
	p.waitMsg("second signal; closing now", 1)
	if r := awaitResult(t, done); r.err == nil {
		t.Errorf("the 20s request was not cut off: %+v", r)
	}
}

// TestWebSocketDrain: an open WebSocket holds the drain until the drain
// timeout, then is closed, and the process exits.
func TestWebSocketDrain(t *testing.T) {
	dir := t.TempDir()
	blue, echo := newBackend(t, "blue"), newBackend(t, "echo")
	p, addr := startRun(t, dir, func(a string) string {
		return site{addr: a, label: "A", upstream: "pool", target: blue, echo: echo, drain: "500ms"}.String()
	})
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	ws := dialWS(ctx, t, addr)
	exchange(ctx, t, ws, "before shutdown")
	sent := time.Now()
	p.signal(syscall.SIGTERM)
	p.waitMsg("shutting down; draining in-flight requests", 1)
	exchange(ctx, t, ws, "while draining")
	if code := p.waitExit(waitLimit); code != 0 {
		t.Fatalf("gatehouse %s, want exit code 0; output:\n%s", describeExit(code), p.output())
	}
	if took := p.exitTime().Sub(sent); took < 450*time.Millisecond || took > 3*time.Second {
		t.Errorf("exited %v after SIGTERM, want about the 500ms drain timeout", took)
	}
	if _, _, err := ws.Read(ctx); err == nil {
		t.Errorf("the WebSocket is still open after the process exited")
	}
}

// TestSighupDuringDrain: a SIGHUP that arrives while draining (log
// rotation sends one, say) is not a second stop signal; the drain goes
// on and the in-flight request completes.
func TestSighupDuringDrain(t *testing.T) {
	dir := t.TempDir()
	slow := newBackend(t, "slow")
	p, addr := startRun(t, dir, func(a string) string {
		return site{addr: a, label: "A", upstream: "pool", target: slow, drain: "10s"}.String()
	})
	done := inFlight(t, "http://"+addr+"/slow?hold=1s", slow)
	p.signal(syscall.SIGINT)
	p.waitMsg("shutting down; draining in-flight requests", 1)
	p.signal(sighup)
	r := awaitResult(t, done)
	if r.err != nil || r.status != 200 || r.body != "slow done\n" {
		t.Errorf("in-flight request: status %d body %q error %v; want 200 %q: SIGHUP must not cut the drain short",
			r.status, r.body, r.err, "slow done\n")
	}
	if code := p.waitExit(waitLimit); code != 0 {
		t.Fatalf("gatehouse %s, want exit code 0; output:\n%s", describeExit(code), p.output())
	}
	if strings.Contains(p.output(), "second signal") || p.count("SIGHUP while shutting down; not reloading") != 1 {
		t.Errorf("want the SIGHUP noted and ignored, not taken for a second stop signal; output:\n%s", p.output())
	}
}
