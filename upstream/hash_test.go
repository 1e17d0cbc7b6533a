package upstream

import (
	"fmt"
	"strings"
	"testing"
)

// hashPool builds a hash pool over these hosts (equal weights), hashing
// key written as in configuration ("" is the client IP).
func hashPool(tb testing.TB, key string, hosts ...string) *Pool {
	tb.Helper()
	var ts []TargetSpec
	for _, h := range hosts {
		ts = append(ts, TargetSpec{URL: "http://" + h})
	}
	kind, name, _ := strings.Cut(key, ":")
	k, ok := KeyKindByName(kind)
	if !ok && key != "" {
		tb.Fatalf("hash key %q", key)
	}
	return build(tb, Spec{Balance: BalanceHash, HashKey: HashKey{Kind: k, Name: name}, Targets: ts}, Options{})
}

func TestHashSameKeySameTarget(t *testing.T) {
	p := hashPool(t, "", "a", "b", "c", "d", "e")
	q := hashPool(t, "client_ip", "e", "d", "c", "b", "a") // order does not matter
	for i := range 1000 {
		x, y, z := p.Pick(ipChoice(i)), p.Pick(ipChoice(i)), q.Pick(ipChoice(i))
		if x != y || name(x) != name(z) {
			t.Fatalf("key %d: %s, %s, %s", i, name(x), name(y), name(z))
		}
	}
}

func TestHashDistribution(t *testing.T) {
	p := hashPool(t, "", "a", "b", "c", "d", "e")
	got := counts(p, 10000, ipChoice)
	for _, h := range []string{"a", "b", "c", "d", "e"} {
		if err := within(got[h], 2000, 0.1); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	w := build(t, Spec{Balance: BalanceHash, Targets: weighted(3, 1)}, Options{})
	got = counts(w, 10000, ipChoice)
	if err := within(got["a"], 7500, 0.05); err != nil {
		t.Errorf("weight 3 of 4: %v", err)
	}
}

// Removing one of five targets remaps only the keys that were on it.
func TestHashRemoveTarget(t *testing.T) {
	five := hashPool(t, "", "a", "b", "c", "d", "e")
	four := hashPool(t, "", "a", "b", "c", "d")
	moved := 0
	for i := range 10000 {
		before, after := name(five.Pick(ipChoice(i))), name(four.Pick(ipChoice(i)))
		if before != "e" && before != after {
			t.Fatalf("key %d moved %s -> %s though %s is still there", i, before, after, before)
		}
		if before != after {
			moved++
		}
	}
	if err := within(moved, 2000, 0.1); err != nil {
		t.Errorf("moved keys: %v", err)
	}
}

// Adding a sixth target moves about 1/6 of the keys, all to it.
func TestHashAddTarget(t *testing.T) {
	five := hashPool(t, "", "a", "b", "c", "d", "e")
	six := hashPool(t, "", "a", "b", "c", "d", "e", "f")
	moved := 0
	for i := range 10000 {
		before, after := name(five.Pick(ipChoice(i))), name(six.Pick(ipChoice(i)))
		if before != after {
			if after != "f" {
				t.Fatalf("key %d moved %s -> %s", i, before, after)
			}
			moved++
		}
	}
	if err := within(moved, 10000/6, 0.1); err != nil {
		t.Errorf("moved keys: %v", err)
	}
}

// A retry, or a down first choice, goes to the key's second choice.
func TestHashSecondChoice(t *testing.T) {
	p := hashPool(t, "", "a", "b", "c", "d", "e")
	for i := range 200 {
		c := ipChoice(i)
		first := p.Pick(c)
		second := p.Pick(c)
		first.st.activeDown.Store(true)
		if got := p.Pick(ipChoice(i)); got != second {
			t.Fatalf("key %d: first %s down gives %s, retry gave %s", i, name(first), name(got), name(second))
		}
		first.st.activeDown.Store(false)
	}
}

func TestHashKeys(t *testing.T) {
	tests := []struct {
		key    string
		a, b   *Choice // same key: same target whatever the client IP
		isIPOf int     // for fallback cases: must hash like client IP n
	}{
		{"header:x-user", reqChoice(1, "X-User", "alice"), reqChoice(2, "X-User", "alice"), -1},
		{"header:X-User", reqChoice(1, "x-user", "bob", "X-User", "other"), reqChoice(9, "X-User", "bob"), -1},
		{"cookie:session", reqChoice(1, "Cookie", "a=1; session=s1"), reqChoice(5, "Cookie", `session="s1"`), -1},
		{"cookie:session", reqChoice(1, "Cookie", "a=1", "Cookie", "session=s2"), reqChoice(5, "Cookie", "session=s2; b=2"), -1},
		{"header:X-User", reqChoice(3), reqChoice(3, "X-User", ""), 3},
		{"cookie:session", reqChoice(4, "Cookie", "other=1"), reqChoice(4), 4},
		{"cookie:session", &Choice{ClientIP: ipChoice(6).ClientIP}, ipChoice(6), 6},
	}
	ipPool := hashPool(t, "client_ip", "a", "b", "c", "d", "e", "f", "g")
	for i, tt := range tests {
		p := hashPool(t, tt.key, "a", "b", "c", "d", "e", "f", "g")
		ka, kb := p.Balancer.(*hashBalancer).key.sum(tt.a), p.Balancer.(*hashBalancer).key.sum(tt.b)
		if ka != kb {
			t.Errorf("%d %s: keys differ: %x %x", i, tt.key, ka, kb)
		}
		if tt.isIPOf >= 0 {
			got, want := p.Balancer.Pick(tt.a), ipPool.Balancer.Pick(ipChoice(tt.isIPOf))
			if name(got) != name(want) {
				t.Errorf("%d %s: fallback picked %s, client IP hash picks %s", i, tt.key, name(got), name(want))
			}
		}
	}
	// Different values spread over the targets.
	p := hashPool(t, "header:X-User", "a", "b", "c", "d", "e")
	got := counts(p, 5000, func(i int) *Choice { return reqChoice(0, "X-User", fmt.Sprint("user", i)) })
	for _, h := range []string{"a", "b", "c", "d", "e"} {
		if err := within(got[h], 1000, 0.15); err != nil {
			t.Errorf("header key, %s: %v", h, err)
		}
	}
}

// The mapping is part of the contract between Gatehouse instances (and
// versions): it must not change by accident.
func TestHashStable(t *testing.T) {
	p := hashPool(t, "", "10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080")
	got := ""
	for i := range 12 {
		got += name(p.Pick(ipChoice(i)))[7:8]
	}
	if want := golden; got != want {
		t.Errorf("mapping of 12 client IPs = %s, want %s", got, want)
	}
}

const golden = "112133312113"
