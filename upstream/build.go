package upstream

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Build compiles s into a Pool called name. s is trusted to be valid (see
// Spec); Build only fails on what it cannot run at all: no targets, a
// target URL that does not parse or has a scheme not in Schemes, an
// unknown Balance, or active checks without o.Client. Each target's live
// state is taken from store by (name, canonical target URL), so an
// unchanged target keeps its health and in-flight count across a reload;
// a new one starts healthy. A nil store gives the pool private state; a
// failed Build leaves store untouched. Build starts nothing: call Start
// for active health checks. It logs a warning to o.Logger each time it
// builds https targets with certificate verification off.
func Build(name string, s Spec, store *Store, o Options) (*Pool, error) {
	p := &Pool{Name: name, now: o.Now, log: o.Logger, observe: o.Observer}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if err := p.buildTargets(s.Targets); err != nil {
		return nil, err
	}
	if p.Scheme == SchemeHTTPS && s.InsecureSkipVerify {
		// Every time, not once: the warning must be in the log of
		// whoever applies such a config.
		p.log.Warn(fmt.Sprintf("upstream %s: TLS certificate verification is OFF (insecure_skip_verify); anyone on the path can impersonate the target", name),
			"pool", name)
	}
	p.buildPassive(s.Passive)
	if err := p.buildActive(s.Active, o.Client); err != nil {
		return nil, err
	}
	b, err := newBalancer(s, p.Targets, o.Rand)
	if err != nil {
		return nil, err
	}
	p.Balancer = b
	p.Attempts = min(max(s.Retry.Attempts, 1), MaxAttempts)
	p.budget = newBudget(p.now, s.Retry.Budget, s.Retry.MinPerSecond)

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
		st.ejected.Store(0)
		st.trial.Store(false)
	}
}

// buildTargets parses the target URLs into p.Targets (without state).
// The pool's scheme is the first target's: Spec promises they share it.
func (p *Pool) buildTargets(specs []TargetSpec) error {
	if len(specs) == 0 {
		return fmt.Errorf("no targets")
	}
	for i, ts := range specs {
		u, addr, err := parseTarget(ts.URL)
		if err != nil {
			return fmt.Errorf("targets[%d]: %w", i, err)
		}
		if i == 0 {
			p.Scheme = u.Scheme
		}
		key := canonical(u)
		p.Targets = append(p.Targets, &Target{
			URL:    u,
			Name:   ts.URL,
			Addr:   addr,
			Weight: max(ts.Weight, 1),
			ID:     targetID(p.Name, key),
			hash:   hashString(key),
			idx:    i,
			pool:   p,
		})
	}
	return nil
}

// parseTarget parses scheme://host[:port] and returns the URL reduced to
// scheme and host, and the host:port to dial, with the scheme's default
// port when the URL has none.
func parseTarget(raw string) (*url.URL, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", fmt.Errorf("target URL: %w", err)
	}
	i := slices.IndexFunc(schemes[:], func(s struct{ name, port string }) bool { return s.name == u.Scheme })
	if i < 0 {
		return nil, "", fmt.Errorf("target %q: scheme must be one of %s", raw, strings.Join(Schemes(), ", "))
	}
	addr := u.Host
	if u.Port() == "" && schemes[i].port != "" {
		addr = net.JoinHostPort(u.Hostname(), schemes[i].port)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, addr, nil
}

// canonical is the identity of a target across reloads.
func canonical(u *url.URL) string {
	return u.Scheme + "://" + strings.ToLower(u.Host)
}

// newBalancer returns the policy s.Balance names.
func newBalancer(s Spec, ts []*Target, rnd func(int) int) (Balancer, error) {
	switch s.Balance {
	case BalanceRoundRobin:
		return newRoundRobin(ts), nil
	case BalanceLeastConn:
		return newLeastConn(ts), nil
	case BalanceP2C:
		if rnd == nil {
			rnd = rand.IntN
		}
		return newP2C(ts, rnd), nil
	case BalanceHash:
		return newHash(ts, s.HashKey), nil
	case BalanceSticky:
		return newSticky(ts, s.Sticky), nil
	}
	return nil, fmt.Errorf("balance %s: not one of %s", s.Balance, strings.Join(Balancers(), ", "))
}
