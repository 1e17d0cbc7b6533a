package store

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/gcra"
)

// ErrUnavailable is the error a Guarded store with Deny set returns while
// its primary cannot decide.
var ErrUnavailable = errors.New("the rate-limit store is unavailable")

// Guarded decides with Primary (Redis) and, while Primary fails, without
// it: with Local (this instance's own memory) when Deny is false, or not
// at all (ErrUnavailable) when it is. After a failure Primary is left
// alone for a backoff (from 500ms) and then tried again by one decision,
// the probe: its success ends the outage, its failure doubles the
// backoff (up to 30s). So an outage costs one timeout per backoff, not
// one per request, and ends by itself. Only the probe moves the backoff:
// the decisions that were in flight when the outage began fail (or
// succeed late) together, and neither lengthens nor ends it.
type Guarded struct {
	Primary Store
	Local   *Memory
	Deny    bool
	Log     *slog.Logger // the outage's start and end; nil discards
	Now     func() time.Time

	// Fallbacks counts decisions made without Primary.
	Fallbacks atomic.Int64

	mu      sync.Mutex
	downTil time.Time     // zero while Primary is up
	backoff time.Duration // the current outage's
	probing bool          // one decision is trying Primary
	// epoch counts the changes between up and down: a decision that
	// began in an earlier one is not the news of this one.
	epoch uint64
}

const (
	minBackoff = 500 * time.Millisecond
	maxBackoff = 30 * time.Second
)

// attempt is one decision's try of Primary: the epoch it began in and
// whether it is the outage's probe.
type attempt struct {
	epoch uint64
	probe bool
}

// Take implements Store.
func (g *Guarded) Take(ctx context.Context, b Bucket, l gcra.Limit, n int64) (gcra.Result, error) {
	a, ok := g.usePrimary()
	if !ok {
		return g.fallback(ctx, b, l, n)
	}
	r, err := g.Primary.Take(ctx, b, l, n)
	if err != nil {
		if ctx.Err() != nil {
			// The client left; Primary is not to blame, and if this was
			// the probe, the next decision probes instead.
			g.abandoned(a)
			return r, err
		}
		g.failed(a, err)
		return g.fallback(ctx, b, l, n)
	}
	g.recovered(a)
	return r, nil
}

func (g *Guarded) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// usePrimary reports whether this decision goes to Primary: always while
// it is up; during an outage, one decision (the probe) once the backoff
// has passed.
func (g *Guarded) usePrimary() (attempt, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.downTil.IsZero() {
		return attempt{epoch: g.epoch}, true
	}
	if g.probing || g.now().Before(g.downTil) {
		return attempt{}, false
	}
	g.probing = true
	return attempt{epoch: g.epoch, probe: true}, true
}

// failed starts an outage (the first failure of a decision begun while
// Primary was up), or lengthens it (the probe's failure); the other
// decisions in flight when it began change nothing.
func (g *Guarded) failed(a attempt, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case a.probe:
		g.backoff = min(2*g.backoff, maxBackoff)
		g.downTil, g.probing = g.now().Add(g.backoff), false
		return
	case a.epoch != g.epoch || !g.downTil.IsZero():
		return
	}
	g.epoch++
	g.backoff = minBackoff
	g.downTil = g.now().Add(g.backoff)
	if g.Log != nil {
		mode := "deciding in this instance's memory"
		if g.Deny {
			mode = "refusing with 503"
		}
		g.Log.Warn("rate limit: the store failed; "+mode+" until it answers again", "error", err)
	}
}

func (g *Guarded) abandoned(a attempt) {
	if !a.probe {
		return
	}
	g.mu.Lock()
	g.probing = false
	g.mu.Unlock()
}

// recovered ends the outage when the probe succeeds; a decision begun
// before the outage that succeeds late does not end it.
func (g *Guarded) recovered(a attempt) {
	if !a.probe {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.epoch++
	g.downTil, g.probing = time.Time{}, false
	if g.Log != nil {
		g.Log.Info("rate limit: the store answers again", "decisions_without_it", g.Fallbacks.Load())
	}
}

func (g *Guarded) fallback(ctx context.Context, b Bucket, l gcra.Limit, n int64) (gcra.Result, error) {
	g.Fallbacks.Add(1)
	if g.Deny {
		return gcra.Result{}, ErrUnavailable
	}
	return g.Local.Take(ctx, b, l, n)
}

var _ Store = (*Guarded)(nil)
