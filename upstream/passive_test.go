package upstream

import (
	"sync"
	"testing"
	"time"
)

// passivePool is a pool of n targets (a, b, ...) ejecting after maxFails
// failures, with a 10s cooldown and 502, 503 as failures.
func passivePool(tb testing.TB, n, maxFails int, clk *fakeClock, logs *logBuffer) *Pool {
	tb.Helper()
	ws := make([]int, n)
	for i := range ws {
		ws[i] = 1
	}
	return build(tb, Spec{Targets: weighted(ws...), Passive: Passive{
		MaxFails: maxFails, Cooldown: 10 * time.Second, FailStatus: []int{502, 503},
	}}, Options{Now: clk.Now, Logger: logs.logger()})
}

// step is one event in a passive health table, and what follows from it.
type step struct {
	op    string // "fail", "ok", "wait" or "pick" (a Pick that must return a)
	wait  time.Duration
	avail bool // a's availability after the step
}

// runSteps applies steps to target a of p.
func runSteps(t *testing.T, p *Pool, clk *fakeClock, steps []step) {
	t.Helper()
	a := p.Targets[0]
	for i, s := range steps {
		switch s.op {
		case "fail":
			p.Failed(a)
		case "ok":
			p.Succeeded(a)
		case "wait":
			clk.Add(s.wait)
		case "pick":
			if got := p.Pick(&Choice{}); got != a {
				t.Fatalf("step %d (pick): got %s, want a (its trial)", i, name(got))
			}
		}
		if a.Available() != s.avail {
			t.Fatalf("step %d (%s): available = %v, want %v", i, s.op, !s.avail, s.avail)
		}
	}
}

func TestPassive(t *testing.T) {
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
		// Before, the cooldown alone brought a back; now a trial that
		// succeeds does (and it is due after 1s, not 10s).
		{"back after a trial, fresh count", 2, []step{
			{op: "fail", avail: true}, {op: "fail", avail: false},
			{op: "wait", wait: 9 * time.Second, avail: false},
			{op: "fail", avail: false}, // in-flight failure while ejected: ignored
			{op: "wait", wait: time.Second, avail: false},
			{op: "pick", avail: false}, {op: "ok", avail: true},
			{op: "fail", avail: true}, {op: "fail", avail: false},
		}},
		{"success while ejected does not un-eject", 1, []step{
			{op: "fail", avail: false}, {op: "ok", avail: false},
			{op: "wait", wait: 10 * time.Second, avail: false}, {op: "ok", avail: true},
		}},
		{"max_fails 0 disables", 0, []step{
			{op: "fail", avail: true}, {op: "fail", avail: true}, {op: "fail", avail: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			runSteps(t, passivePool(t, 2, tt.max, clk, &logBuffer{}), clk, tt.steps)
		})
	}
}

// An ejected target earns its way back: a trial after 1s, and each failed
// trial doubles the wait, up to the cooldown (10s). Only the trial's
// outcome counts; a success after the wait counts as the trial's.
func TestPassiveTrials(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"trial due after 1s", []step{
			{op: "fail", avail: false},
			{op: "wait", wait: 999 * time.Millisecond, avail: false},
			{op: "wait", wait: time.Millisecond, avail: false},
			{op: "pick", avail: false}, {op: "ok", avail: true},
		}},
		{"failed trials double the wait up to the cooldown", []step{
			{op: "fail", avail: false},
			{op: "wait", wait: time.Second, avail: false}, {op: "pick", avail: false}, {op: "fail", avail: false},
			{op: "wait", wait: 2 * time.Second, avail: false}, {op: "pick", avail: false}, {op: "fail", avail: false},
			{op: "wait", wait: 4 * time.Second, avail: false}, {op: "pick", avail: false}, {op: "fail", avail: false},
			{op: "wait", wait: 8 * time.Second, avail: false}, {op: "pick", avail: false}, {op: "fail", avail: false},
			{op: "wait", wait: 10 * time.Second, avail: false}, {op: "pick", avail: false}, {op: "fail", avail: false},
			{op: "wait", wait: 10 * time.Second, avail: false}, {op: "pick", avail: false}, {op: "ok", avail: true},
			// Back with the first backoff again.
			{op: "fail", avail: false}, {op: "wait", wait: time.Second, avail: false}, {op: "pick", avail: false},
		}},
		{"failures of other requests while ejected do not count", []step{
			{op: "fail", avail: false}, {op: "fail", avail: false}, {op: "fail", avail: false},
			{op: "wait", wait: time.Second, avail: false}, {op: "pick", avail: false}, {op: "ok", avail: true},
		}},
		{"a success after the wait is as good as the trial", []step{
			{op: "fail", avail: false}, {op: "wait", wait: time.Second, avail: false}, {op: "ok", avail: true},
		}},
		{"a trial that never reports is followed by another", []step{
			{op: "fail", avail: false}, {op: "wait", wait: time.Second, avail: false}, {op: "pick", avail: false},
			{op: "wait", wait: time.Second, avail: false}, {op: "pick", avail: false}, {op: "ok", avail: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			runSteps(t, passivePool(t, 3, 1, clk, &logBuffer{}), clk, tt.steps)
		})
	}
}

// One trial at a time: a Pick that finds the trial taken, or due before
// its time, goes to the targets in service; a retry never repeats it.
func TestPassiveOneTrial(t *testing.T) {
	clk := newFakeClock()
	p := passivePool(t, 3, 1, clk, &logBuffer{})
	a := p.Targets[0]
	p.Failed(a)
	for i := range 10 {
		if got := p.Pick(&Choice{}); got == a {
			t.Fatalf("pick %d before the backoff went to a", i)
		}
	}
	clk.Add(time.Second)
	c := &Choice{}
	if got := p.Pick(c); got != a {
		t.Fatalf("first pick after the backoff = %s, want a's trial", name(got))
	}
	if got := p.Pick(c); got == a || got == nil {
		t.Fatalf("retry = %s, want another target", name(got))
	}
	for i := range 10 {
		if got := p.Pick(&Choice{}); got == a {
			t.Fatalf("pick %d while the trial is out went to a", i)
		}
	}
}

// Concurrent Picks send one trial.
func TestPassiveConcurrentTrial(t *testing.T) {
	clk := newFakeClock()
	p := passivePool(t, 3, 1, clk, &logBuffer{})
	a := p.Targets[0]
	p.Failed(a)
	clk.Add(time.Second)
	var mu sync.Mutex
	trials := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if p.Pick(&Choice{}) == a {
					mu.Lock()
					trials++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if trials != 1 {
		t.Errorf("%d trials, want 1", trials)
	}
}

// What a new user hit: a one-target upstream was ejected after three
// failed requests, and every request then got 503 for the cooldown. The
// last target in service is never ejected on passive failures alone.
func TestPassiveLastTargetStays(t *testing.T) {
	clk := newFakeClock()
	logs := &logBuffer{}
	p := passivePool(t, 1, 3, clk, logs)
	a := p.Targets[0]
	for i := range 10 {
		p.Failed(a)
		if !a.Available() || p.Pick(&Choice{}) != a {
			t.Fatalf("after %d failures the only target is out", i+1)
		}
	}
	// Of two, one may go, the other stays.
	q := passivePool(t, 2, 1, clk, logs)
	q.Failed(q.Targets[0])
	q.Failed(q.Targets[1])
	if q.Targets[0].Available() || !q.Targets[1].Available() || q.Healthy() != 1 {
		t.Fatalf("two targets failing: available %v %v", q.Targets[0].Available(), q.Targets[1].Available())
	}
	for range 10 {
		if got := q.Pick(&Choice{}); got != q.Targets[1] {
			t.Fatalf("pick = %s, want b", name(got))
		}
	}
	// A target marked down by active checks does not count as in service.
	r := passivePool(t, 2, 1, clk, logs)
	down(r, "b")
	r.Failed(r.Targets[0])
	if !r.Targets[0].Available() {
		t.Error("a was ejected although b is down by active checks")
	}
	if n := logs.count("upstream target ejected"); n != 1 {
		t.Errorf("%d ejection logs, want 1:\n%s", n, logs)
	}
}

// Panic mode: when fewer than half of the targets not down by active checks
// are in service, Pick ignores passive ejections (but not active verdicts);
// it never refuses a pool for passive failures alone. Before, every target
// ejected meant every request got 503.
func TestPassivePanic(t *testing.T) {
	tests := []struct {
		name       string
		n          int
		ejected    string // letters ejected
		activeDown string // letters down by active checks
		want       string // letters Pick may return
		panicking  bool
	}{
		{"none ejected", 3, "", "", "abc", false},
		{"one of three", 3, "a", "", "bc", false},
		{"two of four: half in service", 4, "ab", "", "cd", false},
		{"two of three", 3, "ab", "", "abc", true},
		{"all of three", 3, "abc", "", "abc", true},
		{"all of two", 2, "ab", "", "ab", true},
		{"active verdicts count", 3, "ab", "c", "ab", true},
		{"half of those not down by active checks", 4, "a", "cd", "b", false},
		{"all down by active checks", 2, "", "ab", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			logs := &logBuffer{}
			p := passivePool(t, tt.n, 1, clk, logs)
			for _, l := range tt.ejected {
				// Eject directly: Failed would keep the last one in.
				st := target(p, string(l)).st
				st.backoff.Store(int64(time.Second))
				st.ejected.Store(clk.Now().Add(time.Second).UnixNano())
			}
			for _, l := range tt.activeDown {
				down(p, string(l))
			}
			got := map[string]bool{}
			for i := range 300 {
				c := reqChoice(i)
				tg := p.Pick(c)
				got[name(tg)] = true
				if c.panicMode != tt.panicking {
					t.Fatalf("panic mode %v, want %v", c.panicMode, tt.panicking)
				}
			}
			want := map[string]bool{}
			for _, l := range tt.want {
				want[string(l)] = true
			}
			if tt.want == "" {
				want["-"] = true
			}
			if len(got) != len(want) {
				t.Fatalf("picked %v, want %v", got, want)
			}
			for l := range want {
				if !got[l] {
					t.Fatalf("picked %v, want %v", got, want)
				}
			}
			if n := logs.count("upstream pool in panic mode"); (n == 1) != tt.panicking || n > 1 {
				t.Errorf("%d panic logs:\n%s", n, logs)
			}
		})
	}
}

// Every policy routes in panic mode, and the pool leaves it (logged once)
// when its targets are back.
func TestPassivePanicPolicies(t *testing.T) {
	for _, pol := range policies {
		t.Run(pol, func(t *testing.T) {
			clk := newFakeClock()
			logs := &logBuffer{}
			p := policy(t, pol, 1, 1, 1)
			p.now, p.log, p.maxFails, p.cooldown = clk.Now, logs.logger(), 1, 10*time.Second
			p.Failed(p.Targets[0])
			p.Failed(p.Targets[1])
			p.Failed(p.Targets[2]) // the last one in service: stays
			if p.Healthy() != 1 {
				t.Fatalf("healthy %d, want 1", p.Healthy())
			}
			p.Targets[2].st.ejected.Store(clk.Now().Add(time.Hour).UnixNano()) // as concurrent failures could
			for i := range 100 {
				if p.Pick(reqChoice(i)) == nil {
					t.Fatal("nil pick in panic mode")
				}
			}
			clk.Add(time.Second)
			for range 2 {
				tg := p.Pick(&Choice{}) // a trial
				p.Succeeded(tg)
			}
			p.Pick(&Choice{})
			if logs.count("upstream pool in panic mode") != 1 || logs.count("upstream pool out of panic mode") != 1 {
				t.Errorf("want one log into and one out of panic mode:\n%s", logs)
			}
		})
	}
}

// Concurrent failures eject and log once.
func TestPassiveConcurrentLogOnce(t *testing.T) {
	clk := newFakeClock()
	logs := &logBuffer{}
	p := passivePool(t, 2, 3, clk, logs)
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

// Ejections and returns are logged once each: after the trial's success,
// stragglers' successes log nothing.
func TestPassiveLogs(t *testing.T) {
	clk := newFakeClock()
	logs := &logBuffer{}
	p := passivePool(t, 2, 1, clk, logs)
	p.Failed(p.Targets[0])
	clk.Add(time.Second)
	p.Succeeded(p.Pick(&Choice{}))
	p.Succeeded(p.Targets[0])
	if n := logs.count("upstream target ejected"); n != 1 || logs.count("trial_after=1s cooldown=10s") != 1 {
		t.Errorf("%d ejection logs, want 1:\n%s", n, logs)
	}
	if n := logs.count("upstream target back"); n != 1 {
		t.Errorf("%d recovery logs, want 1:\n%s", n, logs)
	}
}

func TestFailStatus(t *testing.T) {
	p := passivePool(t, 2, 3, newFakeClock(), &logBuffer{})
	for code, want := range map[int]bool{502: true, 503: true, 500: false, 200: false, 0: false, 1000: false, -1: false} {
		if got := p.FailStatus(code); got != want {
			t.Errorf("FailStatus(%d) = %v, want %v", code, got, want)
		}
	}
}
