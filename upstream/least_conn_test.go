package upstream

import "testing"

func TestLeastConn(t *testing.T) {
	tests := []struct {
		name     string
		weights  []int
		inflight []int
		want     string
	}{
		{"fewest", []int{1, 1, 1}, []int{3, 1, 2}, "b"},
		{"idle wins", []int{1, 1, 1}, []int{3, 1, 0}, "c"},
		{"weight honoured", []int{4, 1, 1}, []int{3, 1, 1}, "a"},   // 3/4 < 1/1
		{"weight not enough", []int{2, 1, 1}, []int{3, 1, 2}, "b"}, // 3/2 > 1/1
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := policy(t, "least_conn", tt.weights...)
			for i, n := range tt.inflight {
				for range n {
					p.Targets[i].Begin()
				}
			}
			for range 10 { // whatever the rotating start
				if got := name(p.Pick(&Choice{})); got != tt.want {
					t.Fatalf("pick = %s, want %s", got, tt.want)
				}
			}
		})
	}
}

// Equally loaded targets share the traffic through the rotating start.
func TestLeastConnTiesRotate(t *testing.T) {
	p := policy(t, "least_conn", 1, 1, 1)
	if got := sequence(p, 6); got != "abcabc" {
		t.Errorf("idle sequence = %s, want abcabc", got)
	}
	// Requests that stay in flight spread evenly.
	for range 9 {
		p.Pick(&Choice{}).Begin()
	}
	for _, tg := range p.Targets {
		if n := tg.Inflight(); n != 3 {
			t.Errorf("%s has %d in flight, want 3", name(tg), n)
		}
	}
}

// Under load that stays in flight, traffic follows the weights.
func TestLeastConnWeightedLoad(t *testing.T) {
	p := policy(t, "least_conn", 3, 1)
	for range 400 {
		p.Pick(&Choice{}).Begin()
	}
	if a, b := target(p, "a").Inflight(), target(p, "b").Inflight(); a != 300 || b != 100 {
		t.Errorf("in flight a=%d b=%d, want 300 and 100", a, b)
	}
	for range 30 {
		target(p, "a").End()
	}
	if got := name(p.Pick(&Choice{})); got != "a" {
		t.Errorf("after 30 ended on a: pick %s, want a", got)
	}
}
