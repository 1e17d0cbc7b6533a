package upstream

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
)

// Documented defaults, applied here too when a zero value would be
// meaningless (the loader normally fills them in). Zero stays zero where it
// means something: MaxFails (passive checks off), Retry.Budget and
// Retry.MinPerSecond (no such retries).
const (
	defaultAttempts  = 3
	defaultCooldown  = 10 * time.Second
	defaultInterval  = 10 * time.Second
	defaultTimeout   = 2 * time.Second
	defaultHealthy   = 2
	defaultUnhealthy = 3
	defaultExpect    = "200-399"
	defaultCookie    = "gh_sticky"
)

// Build compiles cfg into a Pool called name. Each target's live state is
// taken from store by (name, canonical target URL), so an unchanged target
// keeps its health and in-flight count across a reload; a new one starts
// healthy. A nil store gives the pool private state. Build starts nothing:
// call Start for active health checks. It returns an error for a config it
// cannot run (no targets, a bad URL, mixed schemes, an unknown policy or
// hash key, a bad expect_status, TLS files for probes that do not load),
// leaving store untouched in that case. It logs a warning to o.Logger
// each time it builds https targets with certificate verification off.
func Build(name string, cfg *config.Upstream, store *Store, o Options) (*Pool, error) {
	if cfg == nil {
		return nil, errors.New("no upstream config")
	}
	p := &Pool{Name: name, Config: cfg, now: o.Now, log: o.Logger}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if err := p.buildTargets(cfg.Targets); err != nil {
		return nil, err
	}
	if p.Scheme == SchemeHTTPS && cfg.TLS.InsecureSkipVerify {
		// Every time, not once: the warning must be in the log of
		// whoever applies such a config.
		p.log.Warn(fmt.Sprintf("upstream %s: TLS certificate verification is OFF (insecure_skip_verify); anyone on the path can impersonate the target", name),
			"pool", name)
	}
	if err := p.buildHealth(cfg, o.Client); err != nil {
		return nil, err
	}
	b, err := newBalancer(cfg, p.Targets, o.Rand)
	if err != nil {
		return nil, err
	}
	p.Balancer = b
	p.Attempts = cfg.Retry.Attempts
	if p.Attempts <= 0 {
		p.Attempts = defaultAttempts
	}
	p.Attempts = min(p.Attempts, MaxAttempts)
	p.budget = newBudget(p.now, cfg.Retry.Budget, cfg.Retry.MinPerSecond)

	if store == nil {
		store = NewStore()
	}
	for _, t := range p.Targets {
		t.st = store.state(name, canonical(t.URL))
		p.resetDisabled(t.st)
	}
	return p, nil
}

// resetDisabled clears health verdicts of a mechanism this pool does not
// run, so a target marked down by an older config is not stuck down.
func (p *Pool) resetDisabled(st *state) {
	if p.active == nil {
		st.activeDown.Store(false)
	}
	if p.maxFails == 0 {
		st.fails.Store(0)
		st.ejectedUntil.Store(0)
	}
}

// buildTargets parses the target URLs into p.Targets (without state).
func (p *Pool) buildTargets(cfgs []config.Target) error {
	if len(cfgs) == 0 {
		return errors.New("no targets")
	}
	seen := make(map[string]bool, len(cfgs))
	for i, ct := range cfgs {
		u, addr, err := parseTarget(ct.URL)
		if err != nil {
			return fmt.Errorf("targets[%d]: %w", i, err)
		}
		if i > 0 && u.Scheme != p.Scheme {
			return fmt.Errorf("targets[%d]: scheme %s differs from %s; all targets of an upstream use one scheme", i, u.Scheme, p.Scheme)
		}
		p.Scheme = u.Scheme
		key := canonical(u)
		if seen[key] {
			return fmt.Errorf("targets[%d]: %s listed twice", i, key)
		}
		seen[key] = true
		p.Targets = append(p.Targets, &Target{
			URL:    u,
			Name:   ct.URL,
			Addr:   addr,
			Weight: max(ct.Weight, 1),
			ID:     targetID(p.Name, key),
			hash:   hashString(key),
			idx:    i,
			pool:   p,
		})
	}
	return nil
}

// parseTarget parses scheme://host[:port] and returns the URL reduced to
// scheme and host, and the host:port to dial. The scheme is http (port 80
// by default), https (443) or h2c (port required: there is no standard
// one).
func parseTarget(raw string) (*url.URL, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", fmt.Errorf("target URL: %w", err)
	}
	port := map[string]string{SchemeHTTP: "80", SchemeHTTPS: "443", SchemeH2C: ""}
	def, known := port[u.Scheme]
	switch {
	case !known:
		return nil, "", fmt.Errorf("target %q: scheme must be http, https or h2c", raw)
	case u.Host == "" || u.Hostname() == "":
		return nil, "", fmt.Errorf("target %q: no host", raw)
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return nil, "", fmt.Errorf("target %q: only scheme://host:port is allowed", raw)
	case u.Port() == "" && def == "":
		return nil, "", fmt.Errorf("target %q: h2c targets need a port, e.g. h2c://10.0.0.5:50051", raw)
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), def)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, addr, nil
}

// canonical is the identity of a target across reloads.
func canonical(u *url.URL) string {
	return u.Scheme + "://" + strings.ToLower(u.Host)
}

// newBalancer returns the policy named by cfg.Balance ("" = round_robin).
func newBalancer(cfg *config.Upstream, ts []*Target, rnd func(int) int) (Balancer, error) {
	switch cfg.Balance {
	case "", "round_robin":
		return newRoundRobin(ts), nil
	case "least_conn":
		return newLeastConn(ts), nil
	case "p2c":
		if rnd == nil {
			rnd = rand.IntN
		}
		return newP2C(ts, rnd), nil
	case "hash":
		k, err := parseHashKey(cfg.HashKey)
		if err != nil {
			return nil, err
		}
		return newHash(ts, k), nil
	case "sticky":
		s := cfg.Sticky
		if s.Cookie == "" {
			s.Cookie = defaultCookie
		}
		if strings.ContainsAny(s.Cookie, " \t;=,\"") {
			return nil, fmt.Errorf("sticky cookie %q: not a valid cookie name", s.Cookie)
		}
		return newSticky(ts, s.Cookie, s.MaxAge.D(), s.Secure), nil
	}
	return nil, fmt.Errorf("balance %q: want round_robin, least_conn, p2c, hash or sticky", cfg.Balance)
}
