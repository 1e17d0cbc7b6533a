package upstream

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
)

// activeCheck is the compiled health.active block.
type activeCheck struct {
	urls      []string // probe URL per target, by Target.idx
	host      string   // Host header; "" = the target's
	interval  time.Duration
	timeout   time.Duration
	expect    statusSet
	healthy   int // consecutive successes that bring a target back
	unhealthy int // consecutive failures that take it down
}

// buildHealth compiles the passive and active settings of cfg into p.
// Probes use the pool's protocol and TLS settings, so a target is judged
// over the same kind of connection that carries its traffic.
func (p *Pool) buildHealth(cfg *config.Upstream, client *http.Client) error {
	p.buildPassive(&cfg.Health.Passive)
	a := cfg.Health.Active
	if a == nil {
		return nil
	}
	ac := &activeCheck{
		host:      a.Host,
		interval:  orDefault(a.Interval.D(), defaultInterval),
		timeout:   orDefault(a.Timeout.D(), defaultTimeout),
		healthy:   orDefault(a.HealthyThreshold, defaultHealthy),
		unhealthy: orDefault(a.UnhealthyThreshold, defaultUnhealthy),
	}
	var err error
	if ac.expect, err = parseStatusSet(orDefault(a.ExpectStatus, defaultExpect)); err != nil {
		return fmt.Errorf("health.active.expect_status: %w", err)
	}
	path := orDefault(a.Path, "/")
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	for _, t := range p.Targets {
		u := RequestScheme(t.URL.Scheme) + "://" + t.URL.Host + path
		if _, err := url.Parse(u); err != nil {
			return fmt.Errorf("health.active.path: %w", err)
		}
		ac.urls = append(ac.urls, u)
	}
	p.active = ac
	p.client = client
	if p.client == nil {
		var tc *tls.Config
		if p.Scheme == SchemeHTTPS {
			t, err := LoadTLS(&cfg.TLS)
			if err != nil {
				return err
			}
			if tc, err = t.ClientConfig(); err != nil {
				return err
			}
		}
		p.client, p.ownsConn = probeClient(ac.timeout, p.Scheme, tc), true
	}
	return nil
}

// orDefault returns v, or def when v is the zero value or negative.
func orDefault[T int | time.Duration | string](v, def T) T {
	var zero T
	if v == zero || v < zero {
		return def
	}
	return v
}

// probeClient is a client of its own for probes, so they neither share
// connection limits with proxied traffic nor follow redirects (a 3xx is
// judged by expect_status like any other answer). It speaks scheme's
// protocol, with tc for https.
func probeClient(timeout time.Duration, scheme string, tc *tls.Config) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: timeout}).DialContext,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	SetProtocols(tr, scheme, tc)
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Start runs active health checks, if configured: one goroutine per target
// probes it at once and then every interval, until ctx is done. Start
// returns immediately; calls after the first do nothing.
func (p *Pool) Start(ctx context.Context) {
	if p.active == nil || !p.started.CompareAndSwap(false, true) {
		return
	}
	for _, t := range p.Targets {
		p.wg.Add(1)
		go p.probeLoop(ctx, t)
	}
}

// probeLoop probes t until ctx is done, tracking consecutive results.
func (p *Pool) probeLoop(ctx context.Context, t *Target) {
	defer p.wg.Done()
	if p.ownsConn {
		defer p.client.CloseIdleConnections()
	}
	tick := time.NewTicker(p.active.interval)
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
// activeDown at the thresholds, logging each transition once.
func (p *Pool) record(t *Target, run *streak, reason string) {
	a, st := p.active, t.st
	if reason == "" {
		run.ok, run.bad = run.ok+1, 0
		if run.ok >= a.healthy && st.activeDown.CompareAndSwap(true, false) {
			p.log.Info("upstream target healthy",
				"pool", p.Name, "target", t.Name, "check", "active", "successes", run.ok)
		}
		return
	}
	run.ok, run.bad = 0, run.bad+1
	if run.bad >= a.unhealthy && st.activeDown.CompareAndSwap(false, true) {
		p.log.Warn("upstream target down",
			"pool", p.Name, "target", t.Name, "check", "active",
			"reason", reason, "failures", run.bad)
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
	if !p.active.expect.has(resp.StatusCode) {
		return fmt.Sprintf("status %d", resp.StatusCode)
	}
	return ""
}
