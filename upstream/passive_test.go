package upstream

import (
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
)

func passivePool(tb testing.TB, maxFails int, clk *fakeClock, logs *logBuffer) *Pool {
	tb.Helper()
	cfg := &config.Upstream{Targets: weighted(1, 1), Health: config.Health{Passive: config.PassiveHealth{
		MaxFails: maxFails, Cooldown: config.Duration(10 * time.Second), FailStatus: []int{502, 503},
	}}}
	return build(tb, cfg, Options{Now: clk.Now, Logger: logs.logger()})
}

func TestPassive(t *testing.T) {
	type step struct {
		op    string // "fail", "ok", or "wait"
		wait  time.Duration
		avail bool // a's availability after the step
	}
	tests := []struct {
		name  string
		max   int
		steps []step
	}{
		{"ejected at max_fails", 3, []step{
			{op: "fail", avail: true}, {op: "fail", avail: true}, {op: "fail", avail: false},
		}},
		{"success resets the count", 3, []step{
			{op: "fail", avail: true}, {op: "fail", avail: true}, {op: "ok", avail: true},
			{op: "fail", avail: true}, {op: "fail", avail: true}, {op: "fail", avail: false},
		}},
		{"back after cooldown, fresh count", 2, []step{
			{op: "fail", avail: true}, {op: "fail", avail: false},
			{op: "wait", wait: 9 * time.Second, avail: false},
			{op: "fail", avail: false}, // in-flight failure while ejected: ignored
			{op: "wait", wait: time.Second, avail: true},
			{op: "fail", avail: true}, {op: "fail", avail: false},
		}},
		{"success while ejected does not un-eject", 1, []step{
			{op: "fail", avail: false}, {op: "ok", avail: false},
			{op: "wait", wait: 10 * time.Second, avail: true}, {op: "ok", avail: true},
		}},
		{"max_fails 0 disables", 0, []step{
			{op: "fail", avail: true}, {op: "fail", avail: true}, {op: "fail", avail: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			p := passivePool(t, tt.max, clk, &logBuffer{})
			a := p.Targets[0]
			for i, s := range tt.steps {
				switch s.op {
				case "fail":
					p.Failed(a)
				case "ok":
					p.Succeeded(a)
				case "wait":
					clk.Add(s.wait)
				}
				if a.Available() != s.avail {
					t.Fatalf("step %d (%s): available = %v, want %v", i, s.op, !s.avail, s.avail)
				}
			}
		})
	}
}

func TestPassiveAllEjected(t *testing.T) {
	clk := newFakeClock()
	logs := &logBuffer{}
	p := passivePool(t, 1, clk, logs)
	for _, tg := range p.Targets {
		p.Failed(tg)
	}
	if tg := p.Pick(&Choice{}); tg != nil || p.Healthy() != 0 {
		t.Fatalf("all ejected: pick %v, healthy %d", tg, p.Healthy())
	}
	clk.Add(10 * time.Second)
	if p.Healthy() != 2 {
		t.Fatalf("after cooldown: healthy %d, want 2", p.Healthy())
	}
	p.Succeeded(p.Targets[0])
	p.Succeeded(p.Targets[0])
	if n := logs.count("upstream target ejected"); n != 2 {
		t.Errorf("%d ejection logs, want 2:\n%s", n, logs)
	}
	if n := logs.count("upstream target back"); n != 1 {
		t.Errorf("%d recovery logs, want 1:\n%s", n, logs)
	}
}

// Concurrent failures eject and log once.
func TestPassiveConcurrentLogOnce(t *testing.T) {
	clk := newFakeClock()
	logs := &logBuffer{}
	p := passivePool(t, 3, clk, logs)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				p.Failed(p.Targets[0])
			}
		})
	}
	wg.Wait()
	if n := logs.count("upstream target ejected"); n != 1 {
		t.Errorf("%d ejection logs, want 1", n)
	}
	if p.Targets[0].Available() {
		t.Error("target still available")
	}
}

func TestFailStatus(t *testing.T) {
	p := passivePool(t, 3, newFakeClock(), &logBuffer{})
	for code, want := range map[int]bool{502: true, 503: true, 500: false, 200: false, 0: false, 1000: false, -1: false} {
		if got := p.FailStatus(code); got != want {
			t.Errorf("FailStatus(%d) = %v, want %v", code, got, want)
		}
	}
}
