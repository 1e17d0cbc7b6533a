package router

import (
	"fmt"
	"net/http"
	"testing"
)

// smallRules is a typical small configuration.
func smallRules() []Rule[string] {
	return []Rule[string]{
		{Prefix: "/", Value: "web"},
		{Prefix: "/api", Value: "api"},
		{Prefix: "/api/v2", Value: "api-v2"},
		{Prefix: "/api", Methods: []string{"POST"}, Headers: []Header{{"X-Canary", "1"}}, Value: "canary"},
		{Prefix: "/api", Cond: isTLS, Value: "api-tls"},
		{Prefix: "/assets", Value: "static"},
		{Hosts: []string{"admin.example.com"}, Prefix: "/", Value: "admin"},
		{Hosts: []string{"*.tenants.example.com"}, Prefix: "/", Value: "tenant"},
	}
}

// largeRules returns 1,000 rules: ten prefixes on each of 100 hosts, a
// tenth of them wildcards.
func largeRules() []Rule[string] {
	prefixes := []string{"/", "/api", "/api/v1", "/api/v2", "/api/v2/users", "/static", "/users", "/orders", "/health", "/metrics"}
	var rules []Rule[string]
	for h := range 100 {
		host := fmt.Sprintf("svc%02d.example.com", h)
		if h%10 == 0 {
			host = fmt.Sprintf("*.zone%02d.example.com", h)
		}
		for _, p := range prefixes {
			rule := Rule[string]{Hosts: []string{host}, Prefix: p, Value: host + p}
			if p == "/orders" {
				rule.Methods = []string{"GET", "POST"}
			}
			rules = append(rules, rule)
		}
	}
	return rules
}

// allocCases are requests exercising every path through Match.
var allocCases = []req{
	{host: "example.com", path: "/api/users/42"},
	{host: "EXAMPLE.com:8080", path: "/api/v2/x"},
	{host: "admin.example.com", path: "/"},
	{host: "a.b.tenants.example.com", path: "/x"},
	{host: "A.B.TENANTS.EXAMPLE.COM", path: "/x"},
	{host: "[::1]:8080", path: "/assets/app.js"},
	{host: "example.com", path: "/api/x", method: "POST", header: http.Header{"X-Canary": {"1"}}},
	{host: "example.com", path: "/api/x", tls: true},
	{host: longHost("example.com"), path: "/apiary"},
}

func TestMatchDoesNotAllocate(t *testing.T) {
	for name, rules := range map[string][]Rule[string]{"small": smallRules(), "large": largeRules()} {
		r := mustNew(t, rules)
		cases := append(allocCases, req{host: "x.zone50.example.com", path: "/api/v2/users/7", method: "GET"},
			req{host: "SVC42.EXAMPLE.COM", path: "/orders/1", method: "POST"})
		for _, q := range cases {
			hr := q.request()
			if n := testing.AllocsPerRun(100, func() { r.Match(q.host, q.path, hr) }); n != 0 {
				t.Errorf("%s: Match(%.40q, %q) allocates %v times", name, q.host, q.path, n)
			}
		}
	}
}

func TestLargeTable(t *testing.T) {
	r := mustNew(t, largeRules())
	runMatches(t, r, []matchCase{
		{"deep", req{host: "svc42.example.com", path: "/api/v2/users/7"}, "svc42.example.com/api/v2/users"},
		{"root", req{host: "svc42.example.com", path: "/nothing"}, "svc42.example.com/"},
		{"wildcard", req{host: "a.zone50.example.com", path: "/api/v1"}, "*.zone50.example.com/api/v1"},
		{"method falls back", req{host: "svc42.example.com", path: "/orders", method: "PUT"}, "svc42.example.com/"},
		{"unknown host", req{host: "svc42.example.org", path: "/"}, ""},
	})
}

func BenchmarkMatch(b *testing.B) {
	r := mustNew(b, smallRules())
	for _, bc := range []struct {
		name string
		q    req
	}{
		{"api", req{host: "example.com", path: "/api/users/42", method: "GET"}},
		{"root", req{host: "example.com", path: "/index.html", method: "GET"}},
		{"exact-host", req{host: "admin.example.com", path: "/users", method: "GET"}},
		{"wildcard", req{host: "acme.tenants.example.com:443", path: "/dashboard", method: "GET"}},
		{"upper-case", req{host: "WWW.Example.COM", path: "/api/v2/x", method: "GET"}},
		{"header", req{host: "example.com", path: "/api/x", method: "POST", header: http.Header{"X-Canary": {"1"}}}},
		{"cond", req{host: "example.com", path: "/api/x", method: "GET", tls: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			hr := bc.q.request()
			b.ReportAllocs()
			for b.Loop() {
				r.Match(bc.q.host, bc.q.path, hr)
			}
		})
	}
}

func BenchmarkMatchLarge(b *testing.B) {
	r := mustNew(b, largeRules())
	paths := []string{"/api/v2/users/42", "/static/app.js", "/", "/orders/7", "/metrics"}
	var reqs []req
	for h := range 100 {
		host := fmt.Sprintf("svc%02d.example.com:8443", h)
		if h%10 == 0 {
			host = fmt.Sprintf("x.zone%02d.example.com", h)
		}
		reqs = append(reqs, req{host: host, path: paths[h%len(paths)], method: "GET"})
	}
	hr := &http.Request{Method: "GET"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		q := &reqs[i%len(reqs)]
		r.Match(q.host, q.path, hr)
		i++
	}
}
