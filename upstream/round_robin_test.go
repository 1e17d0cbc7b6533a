package upstream

import (
	"fmt"
	"strings"
	"testing"
)

func TestRoundRobinSequence(t *testing.T) {
	tests := []struct {
		weights []int
		want    string
	}{
		{[]int{5, 1, 1}, "aabacaa"},
		{[]int{1, 1, 1}, "abc"},
		{[]int{1}, "a"},
		{[]int{2, 1}, "aba"},
		{[]int{0, 0}, "ab"},          // zero weight counts as 1
		{[]int{10, 2, 2}, "aabacaa"}, // reduced by the gcd
		{[]int{3, 2}, "ababa"},
	}
	for _, tt := range tests {
		p := policy(t, "round_robin", tt.weights...)
		want := strings.Repeat(tt.want, 3)
		if got := sequence(p, len(want)); got != want {
			t.Errorf("weights %v: got %s, want %s", tt.weights, got, want)
		}
	}
}

// When targets are unusable their turns pass on, and the rest keep their
// proportions.
func TestRoundRobinProportionalWhenDown(t *testing.T) {
	tests := []struct {
		weights []int
		down    []string
		want    map[string]int // per 700 picks
	}{
		{[]int{5, 1, 1}, []string{"a"}, map[string]int{"b": 350, "c": 350}},
		{[]int{2, 1, 1}, []string{"c"}, map[string]int{"a": 467, "b": 233}},
		{[]int{1, 1, 1, 4}, []string{"d"}, map[string]int{"a": 233, "b": 233, "c": 234}},
		{[]int{50, 1, 1, 3}, []string{"a"}, map[string]int{"b": 140, "c": 140, "d": 420}},
		// a's runs in the schedule exceed the skip limit: the fallback
		// keeps the proportions.
		{[]int{300, 1, 2, 4}, []string{"a"}, map[string]int{"b": 100, "c": 200, "d": 400}},
		{[]int{300, 1, 2, 4}, []string{"a", "d"}, map[string]int{"b": 233, "c": 467}},
	}
	for _, tt := range tests {
		p := policy(t, "round_robin", tt.weights...)
		down(p, tt.down...)
		got := counts(p, 700, func(int) *Choice { return &Choice{} })
		for k, want := range tt.want {
			if err := within(got[k], want, 0.05); err != nil {
				t.Errorf("weights %v, %v down: %s: %v", tt.weights, tt.down, k, err)
			}
		}
	}
}

func TestSmoothScheduleBounded(t *testing.T) {
	var ts []TargetSpec
	for i := range 100 {
		ts = append(ts, TargetSpec{URL: fmt.Sprintf("http://t%d", i), Weight: 1000 - i})
	}
	p := build(t, Spec{Targets: ts}, Options{})
	rr := p.Balancer.(*roundRobin)
	if n := len(rr.sched); n > maxSchedule+len(ts) {
		t.Errorf("schedule has %d slots, want at most %d", n, maxSchedule+len(ts))
	}
	got := counts(p, len(rr.sched), func(int) *Choice { return &Choice{} })
	if a, z := got["t0"], got["t99"]; a <= z {
		t.Errorf("weight 1000 got %d picks, weight 901 got %d", a, z)
	}
}

func TestWeightedAt(t *testing.T) {
	p := policy(t, "round_robin", 2, 1, 3)
	down(p, "b")
	var got strings.Builder
	for x := range uint64(10) {
		got.WriteString(name(weightedAt(p.Targets, &Choice{}, x)))
	}
	if want := "aacccaaccc"; got.String() != want {
		t.Errorf("got %s, want %s", got.String(), want)
	}
	down(p, "a", "c")
	if tg := weightedAt(p.Targets, &Choice{}, 3); tg != nil {
		t.Errorf("none usable: got %s", name(tg))
	}
}
