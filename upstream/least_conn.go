package upstream

import "sync/atomic"

// leastConn picks the usable target with the fewest in-flight requests
// relative to its weight. Ratios are compared without division:
// a is less loaded than b when inflight(a)*weight(b) < inflight(b)*weight(a).
// The scan starts at a rotating index and keeps the first of equals, so
// equally loaded targets share the traffic. Lock-free; safe for concurrent
// use.
type leastConn struct {
	targets []*Target
	start   atomic.Uint64
}

func newLeastConn(targets []*Target) *leastConn {
	return &leastConn{targets: targets}
}

// Pick returns the least loaded usable target, or nil.
func (b *leastConn) Pick(c *Choice) *Target {
	n := uint64(len(b.targets))
	s := b.start.Add(1) - 1
	var best *Target
	for i := range n {
		t := b.targets[(s+i)%n]
		if c.Usable(t) && (best == nil || lessLoaded(t, best)) {
			best = t
		}
	}
	return best
}

// lessLoaded reports whether a has fewer in-flight requests per unit of
// weight than b.
func lessLoaded(a, b *Target) bool {
	return a.Inflight()*int64(b.Weight) < b.Inflight()*int64(a.Weight)
}

var _ Balancer = (*leastConn)(nil)
