package upstream

import (
	"testing"
)

// script returns a Rand that replays values (each taken modulo n).
func script(vals ...int) func(int) int {
	i := 0
	return func(n int) int {
		v := vals[i%len(vals)]
		i++
		return v % n
	}
}

func TestP2C(t *testing.T) {
	tests := []struct {
		name string
		rand []int
		down []string
		want string
	}{
		// in flight: a=5 b=1 c=0 d=1
		{"a vs b", []int{0, 0}, nil, "b"}, // j=0 >= i=0 becomes 1
		{"c vs a", []int{2, 0}, nil, "c"},
		{"b vs d tie keeps first", []int{1, 2}, nil, "b"},
		{"d vs b tie keeps first", []int{3, 1}, nil, "d"},
		// b drawn but down: rescan usable a,c,d; ranks 0 and 1 -> a vs c
		{"scan after down", []int{0, 0, 0, 0}, []string{"b"}, "c"},
		// scan: ranks 2 and 0 -> d vs a
		{"scan ranks", []int{0, 0, 2, 0}, []string{"b"}, "d"},
		{"one usable", []int{0, 0}, []string{"a", "b", "c"}, "d"},
		{"none usable", []int{0, 0}, []string{"a", "b", "c", "d"}, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Spec{Balance: BalanceP2C, Targets: weighted(1, 1, 1, 1)}
			p := build(t, cfg, Options{Rand: script(tt.rand...)})
			for i, n := range []int{5, 1, 0, 1} {
				for range n {
					p.Targets[i].Begin()
				}
			}
			down(p, tt.down...)
			if got := name(p.Pick(&Choice{})); got != tt.want {
				t.Errorf("pick = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestP2CWeights(t *testing.T) {
	cfg := Spec{Balance: BalanceP2C, Targets: weighted(4, 1)}
	p := build(t, cfg, Options{Rand: script(0, 0)})
	for range 3 {
		p.Targets[0].Begin() // 3/4 < 1/1
	}
	p.Targets[1].Begin()
	if got := name(p.Pick(&Choice{})); got != "a" {
		t.Errorf("pick = %s, want a", got)
	}
}

func TestP2CSingleTarget(t *testing.T) {
	p := policy(t, "p2c", 1)
	if got := name(p.Pick(&Choice{})); got != "a" {
		t.Errorf("pick = %s, want a", got)
	}
	down(p, "a")
	if got := p.Pick(&Choice{}); got != nil {
		t.Errorf("pick = %s, want nil", name(got))
	}
}
