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
// alone for a backoff (from 500ms, doubling to 30s) and then tried again
// by one decision, so an outage costs one timeout per backoff, not one
// per request, and ends by itself.
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
}

const (
	minBackoff = 500 * time.Millisecond
	maxBackoff = 30 * time.Second
)

// Take implements Store.
func (g *Guarded) Take(ctx context.Context, b Bucket, l gcra.Limit, n int64) (gcra.Result, error) {
	if !g.usePrimary() {
		return g.fallback(ctx, b, l, n)
	}
	r, err := g.Primary.Take(ctx, b, l, n)
	if err != nil {
		if ctx.Err() != nil {
			// The client left; Primary is not to blame, and if this was
			// the probe, the next decision probes instead.
			g.abandoned()
			return r, err
		}
		g.failed(err)
		return g.fallback(ctx, b, l, n)
	}
	g.recovered()
	return r, nil
}

func (g *Guarded) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// usePrimary reports whether this decision goes to Primary: always while
// it is up; during an outage, one decision once the backoff has passed.
func (g *Guarded) usePrimary() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.downTil.IsZero() {
		return true
	}
	if g.probing || g.now().Before(g.downTil) {
		return false
	}
	g.probing = true
	return true
}

func (g *Guarded) failed(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	first := g.downTil.IsZero()
	if first {
		g.backoff = minBackoff
	} else {
		g.backoff = min(2*g.backoff, maxBackoff)
	}
	g.downTil, g.probing = g.now().Add(g.backoff), false
	if first && g.Log != nil {
		mode := "deciding in this instance's memory"
		if g.Deny {
			mode = "refusing with 503"
		}
		g.Log.Warn("rate limit: the store failed; "+mode+" until it answers again", "error", err)
	}
}

func (g *Guarded) abandoned() {
	g.mu.Lock()
	g.probing = false
	g.mu.Unlock()
}

func (g *Guarded) recovered() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.downTil.IsZero() {
		return
	}
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
