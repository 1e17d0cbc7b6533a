package upstream

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestStoreKeepsStateAcrossBuilds(t *testing.T) {
	s := NewStore()
	clk := newFakeClock()
	o := Options{Now: clk.Now, Client: &http.Client{}}
	active, passive := &Active{Interval: time.Second}, Passive{MaxFails: 1, Cooldown: time.Minute}
	old, err := Build("web", Spec{Targets: weighted(1, 1), Active: active, Passive: passive}, s, o)
	if err != nil {
		t.Fatal(err)
	}
	a, b := old.Targets[0], old.Targets[1]
	a.Begin()
	old.Failed(b) // ejected
	a.st.activeDown.Store(true)

	// Reload: a unchanged (written differently), b removed, c added.
	cfg := Spec{Targets: urls("http://A/", "http://c"), Active: active, Passive: passive}
	p, err := Build("web", cfg, s, o)
	if err != nil {
		t.Fatal(err)
	}
	na, nc := p.Targets[0], p.Targets[1]
	if na.st != a.st || na.Inflight() != 1 || na.Available() {
		t.Errorf("a lost its state: same=%v inflight=%d available=%v", na.st == a.st, na.Inflight(), na.Available())
	}
	if !nc.Available() || nc.Inflight() != 0 {
		t.Error("new target c does not start healthy and idle")
	}
	other, _ := Build("api", Spec{Targets: weighted(1)}, s, o)
	if other.Targets[0].st == a.st {
		t.Error("pools share state")
	}

	if s.len() != 4 {
		t.Fatalf("store holds %d states, want 4", s.len())
	}
	s.Retain([]*Pool{p, nil})
	if s.len() != 2 {
		t.Fatalf("after Retain: %d states, want 2", s.len())
	}
	again, _ := Build("web", Spec{Targets: weighted(1, 1)}, s, o)
	if again.Targets[0].st != a.st || again.Targets[1].st == b.st {
		t.Error("Retain kept the wrong states")
	}
}

// A rebuild without active checks (or without passive ones) clears their
// verdicts, so a target is not stuck down. (Three targets: the last one in
// service is never ejected.)
func TestStoreResetsDisabledChecks(t *testing.T) {
	s := NewStore()
	clk := newFakeClock()
	o := Options{Now: clk.Now, Client: &http.Client{}}
	spec := Spec{Targets: weighted(1, 1, 1), Active: &Active{Interval: time.Second}, Passive: Passive{MaxFails: 1, Cooldown: time.Minute}}
	p, _ := Build("web", spec, s, o)
	p.Targets[0].st.activeDown.Store(true)
	p.Failed(p.Targets[1])
	if p.Healthy() != 1 {
		t.Fatal("setup: targets not down")
	}

	spec.Active = nil
	q, _ := Build("web", spec, s, o)
	if !q.Targets[0].Available() || q.Targets[1].Available() {
		t.Error("without active checks: want a back and b still ejected")
	}
	spec.Passive.MaxFails = 0
	r, _ := Build("web", spec, s, o)
	if r.Healthy() != 3 {
		t.Error("without passive checks: b still ejected")
	}
}

func TestStoreConcurrent(t *testing.T) {
	s := NewStore()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 50 {
				p, err := Build("web", Spec{Targets: weighted(1, 1, 1)}, s, Options{})
				if err != nil {
					t.Error(err)
					return
				}
				p.Targets[i%3].Begin()
				s.Retain([]*Pool{p})
			}
		})
	}
	wg.Wait()
}
