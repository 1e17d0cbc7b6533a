package upstream

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBudget(t *testing.T) {
	type step struct {
		wait     time.Duration
		requests int
		retries  int // attempted
		allowed  int // want
	}
	tests := []struct {
		name   string
		ratio  float64
		minPer int
		steps  []step
	}{
		{"min per second, then refused", 0.2, 10, []step{
			{retries: 15, allowed: 10},
			{wait: time.Second, retries: 15, allowed: 10},
		}},
		{"ratio on top of min", 0.2, 10, []step{
			{requests: 100, retries: 40, allowed: 30},
			{requests: 5, retries: 1, allowed: 1}, // 5 x 0.2 = one more
			{retries: 1, allowed: 0},
		}},
		{"deposits expire after the window", 0.2, 0, []step{
			{requests: 100, retries: 5, allowed: 5},
			{wait: 9 * time.Second, retries: 5, allowed: 5},
			{wait: time.Second, retries: 5, allowed: 0},
		}},
		{"withdrawals expire too", 0.5, 0, []step{
			{requests: 10, retries: 10, allowed: 5},
			{wait: 5 * time.Second, requests: 10, retries: 10, allowed: 5},
			{wait: 5 * time.Second, retries: 10, allowed: 0}, // first 10 requests expired with their retries
			{requests: 2, retries: 10, allowed: 1},
		}},
		{"zero budget, zero min", 0, 0, []step{
			{requests: 1000, retries: 10, allowed: 0},
		}},
		{"ratio only", 1, 0, []step{
			{requests: 3, retries: 5, allowed: 3},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			b := newBudget(clk.Now, tt.ratio, tt.minPer)
			for i, s := range tt.steps {
				clk.Add(s.wait)
				for range s.requests {
					b.request()
				}
				got := 0
				for range s.retries {
					if b.allowRetry() {
						got++
					}
				}
				if got != s.allowed {
					t.Fatalf("step %d: %d of %d retries allowed, want %d", i, got, s.retries, s.allowed)
				}
			}
		})
	}
}

func TestBudgetPack(t *testing.T) {
	for _, tc := range []struct{ sec, v int64 }{
		{0, 0}, {1, -1}, {secMask, valMax}, {12345678901, -valMax}, {-5, 42},
	} {
		s, v := unpack(pack(tc.sec, tc.v))
		if s != tc.sec&secMask || v != tc.v {
			t.Errorf("pack(%d, %d) -> (%d, %d)", tc.sec, tc.v, s, v)
		}
	}
	if _, v := unpack(pack(0, valMax+10)); v != valMax {
		t.Errorf("overflow not clamped: %d", v)
	}
}

// Concurrent use stays within the budget, give or take the racing callers.
func TestBudgetConcurrent(t *testing.T) {
	clk := newFakeClock()
	b := newBudget(clk.Now, 0.1, 5)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	const workers, each = 4, 1000
	for range workers {
		wg.Go(func() {
			for range each {
				b.request()
				if b.allowRetry() {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n, limit := allowed.Load(), int64(5+workers*each/10+workers); n > limit || n < limit-2*workers {
		t.Errorf("%d retries allowed, want about %d", n, limit-workers)
	}
}

func TestPoolBudget(t *testing.T) {
	clk := newFakeClock()
	cfg := Spec{Targets: weighted(1), Retry: Retry{Budget: 0.5, MinPerSecond: 1}}
	p := build(t, cfg, Options{Now: clk.Now})
	for range 4 {
		p.Request()
	}
	got := 0
	for range 10 {
		if p.AllowRetry() {
			got++
		}
	}
	if got != 3 { // 1 per second + 4 x 0.5
		t.Errorf("%d retries allowed, want 3", got)
	}
}
