package upstream

import "sync/atomic"

// roundRobin is smooth weighted round robin, lock-free. At build time it
// runs nginx's smooth algorithm (each step adds every weight to its
// target's current value, picks the largest, subtracts the total from it)
// for one period, giving a schedule such as a a b a c a a for weights
// 5:1:1 rather than a a a a a b c. Pick advances an atomic cursor through
// the schedule.
//
// A slot whose target is not usable is skipped by advancing the shared
// cursor again, so its turn passes on and the remaining targets keep
// appearing in schedule order, in proportion to their weights. After
// maxSkip such slots Pick falls back to a weighted choice among the usable
// targets, bounding the work when most of the pool is down.
type roundRobin struct {
	targets []*Target
	sched   []int32 // indices into targets, one period
	maxSkip int
	next    atomic.Uint64
}

// maxSchedule bounds the schedule length; larger weight sums are scaled
// down, keeping ratios approximately.
const maxSchedule = 1 << 16

func newRoundRobin(targets []*Target) *roundRobin {
	sched := smoothSchedule(weightsOf(targets))
	return &roundRobin{
		targets: targets,
		sched:   sched,
		maxSkip: min(len(sched), 64),
	}
}

// Pick returns the next usable target in the schedule, or nil.
func (b *roundRobin) Pick(c *Choice) *Target {
	n := uint64(len(b.sched))
	var i uint64
	for range b.maxSkip {
		i = b.next.Add(1) - 1
		if t := b.targets[b.sched[i%n]]; c.Usable(t) {
			return t
		}
	}
	return weightedAt(b.targets, c, i)
}

// weightedAt picks among the usable targets in proportion to weight, using
// x as the position: target k is chosen for x modulo the usable total
// falling into its share. Returns nil when none is usable.
func weightedAt(targets []*Target, c *Choice, x uint64) *Target {
	var total uint64
	for _, t := range targets {
		if c.Usable(t) {
			total += uint64(t.Weight)
		}
	}
	if total == 0 {
		return nil
	}
	x %= total
	var last *Target
	for _, t := range targets {
		if !c.Usable(t) {
			continue
		}
		if x < uint64(t.Weight) {
			return t
		}
		x -= uint64(t.Weight)
		last = t // health may change between the loops
	}
	return last
}

// weightsOf returns the targets' weights (at least 1), reduced by their
// greatest common divisor and scaled to fit maxSchedule.
func weightsOf(targets []*Target) []int {
	w := make([]int, len(targets))
	g, sum := 0, 0
	for i, t := range targets {
		w[i] = max(t.Weight, 1)
		g = gcd(g, w[i])
	}
	for i := range w {
		w[i] /= g
		sum += w[i]
	}
	if sum > maxSchedule {
		for i := range w {
			w[i] = max(w[i]*maxSchedule/sum, 1)
		}
	}
	return w
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// smoothSchedule runs nginx's smooth weighted round robin for one period
// (the sum of the weights) and returns the indices it picks.
func smoothSchedule(weights []int) []int32 {
	total := 0
	for _, w := range weights {
		total += w
	}
	cur := make([]int, len(weights))
	sched := make([]int32, total)
	for s := range sched {
		best := 0
		for i, w := range weights {
			cur[i] += w
			if cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= total
		sched[s] = int32(best)
	}
	return sched
}

var _ Balancer = (*roundRobin)(nil)
