package upstream

import (
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
)

func TestStoreKeepsStateAcrossBuilds(t *testing.T) {
	s := NewStore()
	clk := newFakeClock()
	o := Options{Now: clk.Now}
	passive := config.Health{
		Active:  &config.ActiveHealth{},
		Passive: config.PassiveHealth{MaxFails: 1, Cooldown: config.Duration(time.Minute)},
	}
	old, err := Build("web", &config.Upstream{Targets: weighted(1, 1), Health: passive}, s, o)
	if err != nil {
		t.Fatal(err)
	}
	a, b := old.Targets[0], old.Targets[1]
	a.Begin()
	old.Failed(b) // ejected
	a.st.activeDown.Store(true)

	// Reload: a unchanged (written differently), b removed, c added.
	cfg := &config.Upstream{Targets: []config.Target{{URL: "http://A/"}, {URL: "http://c"}}, Health: passive}
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
	other, _ := Build("api", &config.Upstream{Targets: weighted(1)}, s, o)
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
	again, _ := Build("web", &config.Upstream{Targets: weighted(1, 1)}, s, o)
	if again.Targets[0].st != a.st || again.Targets[1].st == b.st {
		t.Error("Retain kept the wrong states")
	}
}

// A rebuild without active checks (or without passive ones) clears their
// verdicts, so a target is not stuck down.
func TestStoreResetsDisabledChecks(t *testing.T) {
	s := NewStore()
	clk := newFakeClock()
	health := config.Health{
		Active:  &config.ActiveHealth{},
		Passive: config.PassiveHealth{MaxFails: 1, Cooldown: config.Duration(time.Minute)},
	}
	p, _ := Build("web", &config.Upstream{Targets: weighted(1, 1), Health: health}, s, Options{Now: clk.Now})
	p.Targets[0].st.activeDown.Store(true)
	p.Failed(p.Targets[1])
	if p.Healthy() != 0 {
		t.Fatal("setup: targets not down")
	}

	health.Active = nil
	q, _ := Build("web", &config.Upstream{Targets: weighted(1, 1), Health: health}, s, Options{Now: clk.Now})
	if !q.Targets[0].Available() || q.Targets[1].Available() {
		t.Error("without active checks: want a back and b still ejected")
	}
	health.Passive.MaxFails = 0
	r, _ := Build("web", &config.Upstream{Targets: weighted(1, 1), Health: health}, s, Options{Now: clk.Now})
	if r.Healthy() != 2 {
		t.Error("without passive checks: b still ejected")
	}
}

func TestStoreConcurrent(t *testing.T) {
	s := NewStore()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for range 50 {
				p, err := Build("web", &config.Upstream{Targets: weighted(1, 1, 1)}, s, Options{})
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
