// Package gcra decides rate limits with the generic cell rate algorithm.
//
// A Limit allows Burst units at once and earns one unit back every
// Interval. For each key the algorithm keeps a single number, the
// theoretical arrival time (TAT): the moment the key's allowance will be
// full again if nothing more is spent. Spending n units moves the TAT n
// intervals later; the spend is allowed when the new TAT lies no further
// than Burst intervals ahead of now. A key never seen, or whose TAT has
// passed, has its whole burst available, so a store may forget such keys
// at any time without changing a decision.
//
// Unlike a fixed window, GCRA has no boundary at which a client may spend
// two windows' worth at once: over any span of time t, at most
// Burst + t/Interval units are allowed. Unlike a token bucket it needs no
// refill arithmetic on a second number, which makes it one atomic update
// in Redis.
//
// Times are Unix nanoseconds passed in by the caller, so decisions are
// deterministic and the same arithmetic runs against any clock (the
// process's, or Redis's).
package gcra

import (
	"math"
	"time"
)

// Limit is a rate and a burst. The zero Limit allows nothing.
type Limit struct {
	// Interval is the time to earn back one unit: the period divided by
	// the count (100 per 10s is 100ms).
	Interval time.Duration
	// Burst is how many units may be spent at once from a full
	// allowance; at least 1 for anything to pass.
	Burst int64
}

// Per is a limit of count units per period, with the given burst (0
// means count: a full period's worth at once).
func Per(count int64, period time.Duration, burst int64) Limit {
	if count <= 0 {
		return Limit{}
	}
	if burst <= 0 {
		burst = count
	}
	return Limit{Interval: max(period/time.Duration(count), 1), Burst: burst}
}

// MaxWindow bounds a limit's Window, so that TATs (Unix nanoseconds) of
// any time this century stay far from overflow.
const MaxWindow = 100 * 365 * 24 * time.Hour

// Valid reports whether l can allow anything: a positive interval and
// burst whose Window is at most MaxWindow. Decide denies everything on
// an invalid limit.
func (l Limit) Valid() bool {
	return l.Interval > 0 && l.Burst > 0 && l.Burst <= int64(MaxWindow/l.Interval)
}

// Window is the time a spent-out allowance takes to fill up again:
// Burst intervals. It is the window the RateLimit-Policy header states.
func (l Limit) Window() time.Duration { return time.Duration(mulSat(int64(l.Interval), l.Burst)) }

// Result is one decision.
type Result struct {
	Allowed bool
	// Remaining is the units that could still be spent at once after
	// this decision.
	Remaining int64
	// RetryAfter is, when denied, how long until the same spend would be
	// allowed; zero when allowed. A spend larger than Burst is never
	// allowed: its RetryAfter is the whole Window.
	RetryAfter time.Duration
	// Reset is how long until the allowance is full again.
	Reset time.Duration
}

// Decide spends n units (n >= 1) at now for a key whose stored TAT is tat
// (0 for a key never seen). It returns the TAT to store: tat itself when
// the spend is denied, so a denied request costs nothing.
func (l Limit) Decide(tat, now, n int64) (int64, Result) {
	if !l.Valid() {
		return tat, Result{RetryAfter: time.Second}
	}
	window := int64(l.Interval) * l.Burst
	if n > l.Burst {
		return tat, Result{RetryAfter: time.Duration(window)}
	}
	if tat < now {
		tat = now // a TAT in the past is a full allowance
	}
	next := tat + int64(l.Interval)*n
	allowAt := next - window // the earliest now at which this spend fits
	if now < allowAt {
		return tat, Result{
			Remaining:  l.units(now + window - tat),
			RetryAfter: time.Duration(allowAt - now),
			Reset:      time.Duration(tat - now),
		}
	}
	return next, Result{
		Allowed:   true,
		Remaining: l.units(now + window - next),
		Reset:     time.Duration(next - now),
	}
}

// units is how many whole intervals fit in d.
func (l Limit) units(d int64) int64 {
	if d <= 0 {
		return 0
	}
	return d / int64(l.Interval)
}

// mulSat saturates instead of wrapping, for Window of an invalid limit.
func mulSat(a, b int64) int64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}
