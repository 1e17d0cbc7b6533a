package upstream

import (
	"sync"
	"testing"
	"time"
)

// events records what an Observer is told.
type events struct {
	mu  sync.Mutex
	got []HealthEvent
}

func (e *events) observe(ev HealthEvent) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, ev)
}

func (e *events) list() []HealthEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]HealthEvent(nil), e.got...)
}

// The observer hears every transition, once, with the pool's clock; a
// nil observer is fine (every other test has one).
func TestObserver(t *testing.T) {
	clk := newFakeClock()
	ev := &events{}
	p := build(t, Spec{
		Targets: weighted(1, 1),
		Passive: Passive{MaxFails: 1, Cooldown: 10 * time.Second},
		Active:  &Active{Interval: time.Second, HealthyThreshold: 1, UnhealthyThreshold: 1},
	}, Options{Now: clk.Now, Observer: ev.observe})
	a, b := p.Targets[0], p.Targets[1]
	t0 := clk.Now()

	p.Failed(a) // ejected
	p.Failed(a) // ignored: ejected already
	clk.Add(time.Second)
	p.Succeeded(p.Pick(&Choice{})) // a's trial: back
	p.Succeeded(a)                 // nothing to report
	var run streak
	p.record(b, &run, "status 503") // down
	p.record(b, &run, "status 503") // still down
	p.record(b, &run, "")           // healthy

	t1 := t0.Add(time.Second)
	want := []HealthEvent{
		{Pool: "web", Target: "http://a", Up: false, Check: "passive", Reason: "consecutive failures", Time: t0},
		{Pool: "web", Target: "http://a", Up: true, Check: "passive", Time: t1},
		{Pool: "web", Target: "http://b", Up: false, Check: "active", Reason: "status 503", Time: t1},
		{Pool: "web", Target: "http://b", Up: true, Check: "active", Time: t1},
	}
	got := ev.list()
	if len(got) != len(want) {
		t.Fatalf("events:\n%+v\nwant\n%+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
