package upstream

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

// BenchmarkPick measures each policy's Pick over 8 weighted targets: the
// first try, and a retry that must skip the target already tried.
func BenchmarkPick(b *testing.B) {
	for _, pol := range policies {
		for _, mode := range []string{"first", "retry"} {
			b.Run(pol+"/"+mode, func(b *testing.B) {
				p := policy(b, pol, 5, 1, 1, 2, 3, 1, 1, 2)
				c := reqChoice(42, "Cookie", "a=b; gh_sticky="+p.Targets[3].ID)
				c.ClientIP = netip.MustParseAddr("2001:db8::1")
				b.ReportAllocs()
				for b.Loop() {
					c.n = 0
					if mode == "retry" {
						c.Mark(p.Targets[3])
					}
					if p.Pick(c) == nil {
						b.Fatal("nil")
					}
				}
			})
		}
	}
}

// BenchmarkPickParallel shows contention on the shared cursors.
func BenchmarkPickParallel(b *testing.B) {
	for _, pol := range policies {
		b.Run(pol, func(b *testing.B) {
			p := policy(b, pol, 5, 1, 1, 2, 3, 1, 1, 2)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				c := reqChoice(7)
				for pb.Next() {
					c.n = 0
					p.Pick(c)
				}
			})
		})
	}
}

func BenchmarkBudget(b *testing.B) {
	p := policy(b, "round_robin", 1)
	p.budget = newBudget(p.now, 0.2, 10)
	b.Run("Request", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.Request()
		}
	})
	b.Run("AllowRetry", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.Request()
			p.AllowRetry()
		}
	})
	b.Run("RequestParallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				p.Request()
			}
		})
	})
}

func BenchmarkPassive(b *testing.B) {
	p := policy(b, "round_robin", 1)
	p.maxFails = 3
	t := p.Targets[0]
	b.Run("Succeeded", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.Succeeded(t)
		}
	})
	b.Run("FailStatus", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.FailStatus(502)
		}
	})
}

// BenchmarkPickEjected is Pick's slow path: one of 8 targets ejected (its
// trial not yet due), and panic mode with 5 of 8 ejected.
func BenchmarkPickEjected(b *testing.B) {
	for _, n := range []int{1, 5} {
		b.Run(fmt.Sprintf("%d_of_8", n), func(b *testing.B) {
			p := policy(b, "round_robin", 5, 1, 1, 2, 3, 1, 1, 2)
			for _, t := range p.Targets[:n] {
				t.st.backoff.Store(int64(time.Hour))
				t.st.ejected.Store(p.now().Add(time.Hour).UnixNano())
			}
			c := reqChoice(42)
			b.ReportAllocs()
			for b.Loop() {
				c.n = 0
				if p.Pick(c) == nil {
					b.Fatal("nil")
				}
			}
		})
	}
	b.Run("Failed", func(b *testing.B) {
		p := policy(b, "round_robin", 1, 1)
		p.maxFails, p.cooldown = 3, time.Second
		t := p.Targets[0]
		b.ReportAllocs()
		for b.Loop() {
			p.Failed(t)
			p.Succeeded(t)
		}
	})
}
