package upstream

import (
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Pool is a compiled upstream: its targets, the policy that picks one per
// request, health checking and the retry budget. Build makes one; its
// exported fields are set by Build and must not be changed afterwards. The
// live state of its targets is shared through a Store with the pools that
// replace it on reload. All methods are safe for concurrent use.
//
// A forwarder uses it per request like this: Request once; then for each
// attempt Pick (nil means 503), Target.Begin/End around the exchange,
// Succeeded or Failed (consulting FailStatus for the response status),
// Stamp before writing the response header; and before each retry,
// AllowRetry.
type Pool struct {
	// Name is the upstream's name, for logs.
	Name string
	// Targets are the backends, in configuration order.
	Targets []*Target
	// Scheme is the targets' scheme: SchemeHTTP, SchemeHTTPS or SchemeH2C.
	Scheme string
	// Balancer is the policy chosen by Spec.Balance.
	Balancer Balancer
	// Attempts is the most tries per request, the first included,
	// 1..MaxAttempts.
	Attempts int

	now      clock
	log      *slog.Logger
	observe  func(HealthEvent) // nil = nobody listens
	budget   *budget
	maxFails int32         // passive: consecutive failures that eject; 0 = off
	cooldown time.Duration // passive: the longest backoff between trials
	failCode statusSet     // passive: response statuses that are failures
	active   *activeCheck  // nil = no active checks
	client   *http.Client  // for active checks
	started  atomic.Bool
	panicked atomic.Bool    // the last triage found panic mode (for logs)
	wg       sync.WaitGroup // active checkers (Wait)
}

// Options are what Build needs besides the Spec. The zero value is ready
// to use for a pool without active checks.
type Options struct {
	// Now returns the current time. Nil means time.Now.
	Now func() time.Time
	// Rand returns a uniform int in [0, n), for p2c. It must be safe for
	// concurrent use. Nil means math/rand/v2's IntN.
	Rand func(n int) int
	// Logger receives health transitions: a target going down or coming
	// back, a pool entering or leaving panic mode. Nil discards them.
	Logger *slog.Logger
	// Observer is told of every health transition of a target, after it
	// is logged; nil means nobody is. It is called synchronously on the
	// goroutine that saw the transition (a request's or a checker's), so
	// it must be quick, must not block and must be safe for concurrent
	// use.
	Observer func(HealthEvent)
	// Client sends active health probes, to URLs of the target's own
	// scheme (h2c://host:port/path for h2c targets), so it must speak
	// the pool's protocol with its TLS settings (package transport's
	// ProbeClient does). Redirects are never followed: the pool judges
	// a 3xx like any other answer. Required when Spec.Active is set; the
	// pool closes the client's idle connections when its checkers stop.
	Client *http.Client
}

// Pick returns the target for one attempt and marks it tried in c, so a
// retry with the same Choice goes elsewhere. An ejected target whose
// backoff is over gets its trial request first; otherwise the balancer
// chooses, and in panic mode (fewer than half of the targets not marked
// down by active checks are in service) it chooses among ejected targets
// too (see triage.go). Pick returns nil when no target is usable; the
// proxy then answers 503.
func (p *Pool) Pick(c *Choice) *Target {
	t := p.triage(c)
	if t == nil {
		t = p.Balancer.Pick(c)
	}
	if t != nil {
		c.Mark(t)
	}
	return t
}

// Stamp lets the balancer mark the response header h for target t, as
// sticky sessions set their cookie. It does nothing for other policies.
// Call it before the response header is written.
func (p *Pool) Stamp(h http.Header, c *Choice, t *Target) {
	if s, ok := p.Balancer.(Stamper); ok && t != nil {
		s.Stamp(h, c, t)
	}
}

// Request records one client request with the retry budget. Call it once
// per request, not per attempt.
func (p *Pool) Request() { p.budget.request() }

// AllowRetry reports whether the retry budget allows one more retry, and
// if so spends it. Call it before each retry, after checking Attempts.
func (p *Pool) AllowRetry() bool { return p.budget.allowRetry() }

// Healthy returns the number of targets currently Available.
func (p *Pool) Healthy() int {
	n := 0
	for _, t := range p.Targets {
		if t.Available() {
			n++
		}
	}
	return n
}
