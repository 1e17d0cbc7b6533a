package upstream

import (
	"testing"
)

// policies are the names of every policy, so each test covers them all.
var policies = Balancers()

// Every policy skips unavailable and tried targets and returns nil when
// nothing is usable.
func TestPoliciesSkipUnusable(t *testing.T) {
	for _, pol := range policies {
		t.Run(pol, func(t *testing.T) {
			p := policy(t, pol, 3, 2, 1, 1)
			down(p, "b", "d")
			for i := range 200 {
				c := reqChoice(i)
				c.Mark(target(p, "c"))
				if got := p.Pick(c); name(got) != "a" {
					t.Fatalf("pick %d = %s, want a (b, d down, c tried)", i, name(got))
				}
				if got := p.Pick(c); got != nil {
					t.Fatalf("retry pick %d = %s, want nil", i, name(got))
				}
				if c.Attempts() != 2 {
					t.Fatalf("attempts = %d, want 2", c.Attempts())
				}
			}
			down(p, "a", "c")
			if got := p.Pick(reqChoice(1)); got != nil {
				t.Fatalf("all down: pick = %s, want nil", name(got))
			}
			if h := p.Healthy(); h != 0 {
				t.Fatalf("Healthy = %d, want 0", h)
			}
		})
	}
}

// A retry never repeats a target, and with enough attempts reaches every
// usable one.
func TestPoliciesRetryVisitsAll(t *testing.T) {
	for _, pol := range policies {
		t.Run(pol, func(t *testing.T) {
			p := policy(t, pol, 1, 5, 1, 2, 1)
			for i := range 100 {
				c := reqChoice(i)
				seen := map[*Target]bool{}
				for range len(p.Targets) {
					tg := p.Pick(c)
					if tg == nil || seen[tg] {
						t.Fatalf("request %d: pick %s (seen %v)", i, name(tg), seen[tg])
					}
					seen[tg] = true
				}
				if tg := p.Pick(c); tg != nil {
					t.Fatalf("request %d: pick after all tried = %s", i, name(tg))
				}
			}
		})
	}
}

// Pick allocates nothing, on the fast path and when skipping.
func TestPoliciesDoNotAllocate(t *testing.T) {
	for _, pol := range policies {
		t.Run(pol, func(t *testing.T) {
			p := policy(t, pol, 5, 1, 1, 3)
			down(p, "b")
			c := reqChoice(7, "Cookie", "gh_sticky=nope; x=y")
			allocs := testing.AllocsPerRun(1000, func() {
				c.n = 0
				if p.Pick(c) == nil {
					t.Fatal("nil pick")
				}
				p.Pick(c) // a retry, skipping the first
			})
			if allocs != 0 {
				t.Errorf("%v allocs per Pick, want 0", allocs)
			}
		})
	}
}
