package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// activeCheck is the compiled Spec.Active.
type activeCheck struct {
	urls      []string // probe URL per target, by Target.idx
	host      string   // Host header; "" = the target's
	interval  time.Duration
	timeout   time.Duration
	expect    func(int) bool // nil = every status passes
	healthy   int            // consecutive successes that bring a target back
	unhealthy int            // consecutive failures that take it down
}

// buildActive compiles a into p, probing with a copy of client that never
// follows redirects (a 3xx is judged by ExpectStatus like any other
// answer). Probe URLs keep the target's scheme: client is built for it.
func (p *Pool) buildActive(a *Active, client *http.Client) error {
	if a == nil {
		return nil
	}
	if client == nil {
		return errors.New("health.active: no probe client (Options.Client)")
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	p.client = &c
	ac := &activeCheck{
		host:      a.Host,
		interval:  a.Interval,
		timeout:   a.Timeout,
		expect:    a.ExpectStatus,
		healthy:   a.HealthyThreshold,
		unhealthy: a.UnhealthyThreshold,
	}
	for _, t := range p.Targets {
		ac.urls = append(ac.urls, t.URL.Scheme+"://"+t.URL.Host+a.Path)
	}
	p.active = ac
	return nil
}

// Start runs active health checks, if configured: one goroutine per target
// probes it at once and then every interval, until ctx is done; then the
// probe client's idle connections are closed. Start returns immediately;
// calls after the first do nothing.
func (p *Pool) Start(ctx context.Context) {
	if p.active == nil || !p.started.CompareAndSwap(false, true) {
		return
	}
	for _, t := range p.Targets {
		p.wg.Add(1)
		go p.probeLoop(ctx, t)
	}
}

// Wait blocks until the checkers Start began have stopped and closed
// their connections, which they do once its ctx is done. Without Start it
// returns at once. A component's Close can call it after cancelling.
func (p *Pool) Wait() { p.wg.Wait() }

// probeLoop probes t until ctx is done, tracking consecutive results.
func (p *Pool) probeLoop(ctx context.Context, t *Target) {
	defer p.wg.Done()
	defer p.client.CloseIdleConnections()
	tick := time.NewTicker(max(p.active.interval, time.Millisecond))
	defer tick.Stop()
	var run streak
	for {
		reason := p.probe(ctx, t)
		if ctx.Err() != nil {
			return // an interrupted probe says nothing about t
		}
		p.record(t, &run, reason)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// streak counts consecutive probe results of one target.
type streak struct{ ok, bad int }

// record applies one probe result (reason "" = healthy) and flips t's
// activeDown at the thresholds, logging and notifying each transition
// once.
func (p *Pool) record(t *Target, run *streak, reason string) {
	a, st := p.active, t.st
	if reason == "" {
		run.ok, run.bad = run.ok+1, 0
		if run.ok >= a.healthy && st.activeDown.CompareAndSwap(true, false) {
			p.log.Info("upstream target healthy",
				"pool", p.Name, "target", t.Name, "check", "active", "successes", run.ok)
			p.notify(t, true, "active", "")
		}
		return
	}
	run.ok, run.bad = 0, run.bad+1
	if run.bad >= a.unhealthy && st.activeDown.CompareAndSwap(false, true) {
		p.log.Warn("upstream target down",
			"pool", p.Name, "target", t.Name, "check", "active",
			"reason", reason, "failures", run.bad)
		p.notify(t, false, "active", reason)
	}
}

// probe sends one GET and returns why it failed, or "" if it passed.
func (p *Pool) probe(ctx context.Context, t *Target) string {
	ctx, cancel := context.WithTimeout(ctx, p.active.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.active.urls[t.idx], nil)
	if err != nil {
		return err.Error()
	}
	if p.active.host != "" {
		req.Host = p.active.host
	}
	req.Header.Set("User-Agent", "gatehouse-health-check")
	resp, err := p.client.Do(req)
	if err != nil {
		return err.Error()
	}
	// Drain a little so the connection can be reused.
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	resp.Body.Close()
	if p.active.expect != nil && !p.active.expect(resp.StatusCode) {
		return fmt.Sprintf("status %d", resp.StatusCode)
	}
	return ""
}
