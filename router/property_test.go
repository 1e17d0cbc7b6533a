package router

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
)

var (
	propHosts    = []string{"", "", "a.example.com", "b.example.com", "*.example.com", "*.a.example.com", "example.com"}
	propPrefixes = []string{"/", "/api", "/api/", "/api/v2", "/api/v2/users", "/assets", "/api%2Fv2", "/a"}
	propMethods  = [][]string{nil, nil, {"GET"}, {"POST"}, {"GET", "POST"}}
	propHeaders  = [][]Header{nil, nil, {{"X-A", "1"}}, {{"x-a", "*"}}, {{"X-B", "2"}}, {{"X-A", "1"}, {"X-B", "*"}}}
	propConds    = []func(*http.Request) bool{nil, nil, isTLS}

	propReqHosts   = []string{"a.example.com", "x.a.example.com", "b.example.com", "example.com", "c.example.com", "other.org", "A.Example.COM:80"}
	propReqPaths   = []string{"/", "/api", "/api/", "/api/v2", "/api/v2/users/1", "/apiary", "/assets/x", "/api%2Fv2/x", "/a/b", "/b"}
	propReqMethods = []string{"GET", "POST", "DELETE"}
	propReqHeaders = []http.Header{nil, {"X-A": {"1"}}, {"X-A": {"2"}}, {"X-A": {"1"}, "X-B": {"2"}}, {"X-B": {"2"}}}
	propReqTLS     = []bool{false, true}
)

// randomRules returns n rules drawn from the pools above. With unique set,
// no two rules share host, prefix and condition count, so file order never
// decides between them.
func randomRules(r *rand.Rand, n int, unique bool) []Rule[string] {
	var rules []Rule[string]
	seen := map[string]bool{}
	for len(rules) < n {
		rule := Rule[string]{
			Prefix:  propPrefixes[r.IntN(len(propPrefixes))],
			Methods: propMethods[r.IntN(len(propMethods))],
			Headers: propHeaders[r.IntN(len(propHeaders))],
			Cond:    propConds[r.IntN(len(propConds))],
			Value:   fmt.Sprintf("r%d", len(rules)),
		}
		if h := propHosts[r.IntN(len(propHosts))]; h != "" {
			rule.Hosts = []string{h}
		}
		key := fmt.Sprint(rule.Hosts, strings.TrimSuffix(rule.Prefix, "/"), conditions(rule))
		if unique && seen[key] {
			continue
		}
		seen[key] = true
		rules = append(rules, rule)
	}
	return rules
}

func conditions(rule Rule[string]) int {
	n := len(rule.Headers)
	if len(rule.Methods) > 0 {
		n++
	}
	if rule.Cond != nil {
		n++
	}
	return n
}

// eachRequest calls f with every combination of the request pools.
func eachRequest(f func(req)) {
	for _, h := range propReqHosts {
		for _, p := range propReqPaths {
			for _, m := range propReqMethods {
				for _, hd := range propReqHeaders {
					for _, tls := range propReqTLS {
						f(req{h, p, m, hd, tls})
					}
				}
			}
		}
	}
}

// TestShuffleInvariant checks that when no two rules tie, the order of the
// rules slice does not change any result.
func TestShuffleInvariant(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for trial := range 30 {
		rules := randomRules(rnd, 2+rnd.IntN(25), true)
		want := map[string]string{}
		base := mustNew(t, rules)
		for shuffle := range 10 {
			rnd.Shuffle(len(rules), func(i, j int) { rules[i], rules[j] = rules[j], rules[i] })
			r := mustNew(t, rules)
			eachRequest(func(q req) {
				key := fmt.Sprint(q)
				if shuffle == 0 {
					want[key] = match(base, q)
				}
				if got := match(r, q); got != want[key] {
					t.Fatalf("trial %d shuffle %d: %+v: got %q, want %q", trial, shuffle, q, got, want[key])
				}
			})
		}
	}
}

// TestAgainstReference compares Match with a direct, slow reading of the
// documented precedence, ties included.
func TestAgainstReference(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	for trial := range 30 {
		rules := randomRules(rnd, 1+rnd.IntN(30), false)
		r := mustNew(t, rules)
		eachRequest(func(q req) {
			if got, want := match(r, q), referenceMatch(rules, q); got != want {
				t.Fatalf("trial %d: %+v: got %q, reference %q\nrules: %+v", trial, q, got, want, rules)
			}
		})
	}
}

// referenceMatch is the package doc's precedence, applied rule by rule.
func referenceMatch(rules []Rule[string], q req) string {
	host := strings.ToLower(strings.TrimSuffix(q.host, ":80"))
	groups := []string{host}
	labels := strings.Split(host, ".")
	for i := 1; i < len(labels); i++ {
		groups = append(groups, "*."+strings.Join(labels[i:], "."))
	}
	groups = append(groups, "")
	for _, g := range groups {
		var cands []int
		for i, rule := range rules {
			if slices.Contains(rule.Hosts, g) || g == "" && len(rule.Hosts) == 0 {
				if refAdmits(rule, q) {
					cands = append(cands, i)
				}
			}
		}
		if len(cands) == 0 {
			continue
		}
		best := slices.MinFunc(cands, func(a, b int) int {
			pa, pb := strings.TrimSuffix(rules[a].Prefix, "/"), strings.TrimSuffix(rules[b].Prefix, "/")
			return cmp.Or(len(pb)-len(pa), conditions(rules[b])-conditions(rules[a]), a-b)
		})
		return rules[best].Value
	}
	return ""
}

func refAdmits(rule Rule[string], q req) bool {
	p := strings.TrimSuffix(rule.Prefix, "/")
	if q.path != p && !strings.HasPrefix(q.path, p+"/") {
		return false
	}
	if len(rule.Methods) > 0 && !slices.Contains(rule.Methods, q.method) {
		return false
	}
	for _, h := range rule.Headers {
		got := http.Header(q.header).Values(h.Name)
		if len(got) == 0 || h.Value != "*" && !slices.Contains(got, h.Value) {
			return false
		}
	}
	return rule.Cond == nil || rule.Cond(q.request())
}
