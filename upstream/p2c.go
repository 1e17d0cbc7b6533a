package upstream

// p2c is the power of two choices: draw two distinct usable targets at
// random and take the one with fewer in-flight requests per weight. It
// avoids both the herding of least_conn (every balancer sending to the same
// idle target) and the blindness of random choice. Randomness comes from
// Options.Rand. Safe for concurrent use if rand is.
type p2c struct {
	targets []*Target
	rand    func(n int) int
}

func newP2C(targets []*Target, rand func(int) int) *p2c {
	return &p2c{targets: targets, rand: rand}
}

// Pick returns the less loaded of two random usable targets, the only
// usable one, or nil.
func (b *p2c) Pick(c *Choice) *Target {
	n := len(b.targets)
	if n == 1 {
		if t := b.targets[0]; c.Usable(t) {
			return t
		}
		return nil
	}
	i, j := b.two(n)
	x, y := b.targets[i], b.targets[j]
	if c.Usable(x) && c.Usable(y) {
		return lighter(x, y)
	}
	return b.scan(c)
}

// two draws two distinct indices in [0, n), n >= 2.
func (b *p2c) two(n int) (int, int) {
	i := b.rand(n)
	j := b.rand(n - 1)
	if j >= i {
		j++
	}
	return i, j
}

// scan is the slow path when a draw hit an unusable target: count the
// usable targets, then draw two distinct ranks among them.
func (b *p2c) scan(c *Choice) *Target {
	k := 0
	var only *Target
	for _, t := range b.targets {
		if c.Usable(t) {
			k++
			only = t
		}
	}
	if k < 2 {
		return only
	}
	i, j := b.two(k)
	x, y := b.nth(c, i), b.nth(c, j)
	switch { // nil only if health changed between the loops
	case x == nil:
		return y
	case y == nil:
		return x
	}
	return lighter(x, y)
}

// nth returns the usable target of rank r, or nil.
func (b *p2c) nth(c *Choice, r int) *Target {
	for _, t := range b.targets {
		if c.Usable(t) {
			if r == 0 {
				return t
			}
			r--
		}
	}
	return nil
}

// lighter returns y if it is less loaded than x, else x.
func lighter(x, y *Target) *Target {
	if lessLoaded(y, x) {
		return y
	}
	return x
}

var _ Balancer = (*p2c)(nil)
