package router

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
)

// req is one request in a table test. An empty host means "example.com",
// an empty method "GET". tls marks a request that came over TLS.
type req struct {
	host, path, method string
	header             http.Header
	tls                bool
}

// request returns the *http.Request Match reads q's method, header and
// TLS state from.
func (q req) request() *http.Request {
	r := &http.Request{Method: q.method, Header: q.header}
	if r.Method == "" {
		r.Method = "GET"
	}
	if q.tls {
		r.TLS = &tls.ConnectionState{}
	}
	return r
}

type matchCase struct {
	name string
	req  req
	want string // "" means no match
}

func mustNew(t testing.TB, rules []Rule[string]) *Router[string] {
	t.Helper()
	r, err := New(rules)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

func runMatches(t *testing.T, r *Router[string], cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := match(r, tc.req)
			if got != tc.want {
				t.Fatalf("Match(%q, %q, %q) = %q, want %q", tc.req.host, tc.req.path, tc.req.method, got, tc.want)
			}
		})
	}
}

// match runs r.Match on q and returns the value, or "" if none matched.
func match(r *Router[string], q req) string {
	if q.host == "" {
		q.host = "example.com"
	}
	v, ok := r.Match(q.host, q.path, q.request())
	if ok && v == "" {
		return "<empty value>"
	}
	return v
}

func TestClassicTable(t *testing.T) {
	rules := []Rule[string]{
		{Prefix: "/", Value: "web"},
		{Prefix: "/api", Value: "api"},
		{Prefix: "/assets/", Value: "static"},
		{Prefix: "/api/v2", Value: "api-v2"},
	}
	cases := []matchCase{
		{"root", req{path: "/"}, "web"},
		{"page", req{path: "/about/team"}, "web"},
		{"api exact", req{path: "/api"}, "api"},
		{"api slash", req{path: "/api/"}, "api"},
		{"api deep", req{path: "/api/users/1"}, "api"},
		{"apiary is not api", req{path: "/apiary"}, "web"},
		{"encoded slash is not a boundary", req{path: "/api%2F..%2Fadmin"}, "web"},
		{"assets trailing slash ignored", req{path: "/assets"}, "static"},
		{"assets file", req{path: "/assets/app.js"}, "static"},
		{"v2 beats api", req{path: "/api/v2/users"}, "api-v2"},
		{"v2 exact", req{path: "/api/v2"}, "api-v2"},
		{"v20 is not v2", req{path: "/api/v20"}, "api"},
	}
	runMatches(t, mustNew(t, rules), cases)

	// Reversed order: the longest prefix still wins.
	for i, j := 0, len(rules)-1; i < j; i, j = i+1, j-1 {
		rules[i], rules[j] = rules[j], rules[i]
	}
	runMatches(t, mustNew(t, rules), cases)
}

func TestNoRootRule(t *testing.T) {
	r := mustNew(t, []Rule[string]{
		{Prefix: "/api", Value: "api"},
		{Prefix: "/api/v2/admin", Value: "admin"},
	})
	runMatches(t, r, []matchCase{
		{"unmatched", req{path: "/other"}, ""},
		{"root unmatched", req{path: "/"}, ""},
		{"apiary", req{path: "/apiary"}, ""},
		{"between prefixes falls back up", req{path: "/api/v2/x"}, "api"},
		{"deepest", req{path: "/api/v2/admin/users"}, "admin"},
	})
}

func TestEmptyRouter(t *testing.T) {
	r := mustNew(t, nil)
	if v, ok := r.Match("example.com", "/", &http.Request{Method: "GET"}); ok {
		t.Fatalf("empty router matched %q", v)
	}
}

func TestHostPrecedence(t *testing.T) {
	r := mustNew(t, []Rule[string]{
		{Prefix: "/", Value: "any"},
		{Hosts: []string{"*.example.com"}, Prefix: "/", Value: "wild"},
		{Hosts: []string{"*.a.example.com"}, Prefix: "/", Value: "wild-a"},
		{Hosts: []string{"x.a.example.com"}, Prefix: "/only", Value: "exact"},
		{Hosts: []string{"example.com"}, Prefix: "/", Value: "apex"},
		{Hosts: []string{"*.b.example.com"}, Prefix: "/b", Value: "wild-b"},
	})
	runMatches(t, r, []matchCase{
		{"exact", req{host: "x.a.example.com", path: "/only/x"}, "exact"},
		{"exact group falls through to longer wildcard", req{host: "x.a.example.com", path: "/other"}, "wild-a"},
		{"longer wildcard", req{host: "y.a.example.com", path: "/"}, "wild-a"},
		{"longer wildcard at depth", req{host: "z.y.a.example.com", path: "/"}, "wild-a"},
		{"shorter wildcard", req{host: "y.example.com", path: "/"}, "wild"},
		{"wildcard any depth", req{host: "p.q.example.com", path: "/"}, "wild"},
		{"wildcard is not the apex", req{host: "a.example.com", path: "/"}, "wild"},
		{"apex exact", req{host: "example.com", path: "/"}, "apex"},
		{"wildcard falls through to shorter", req{host: "x.b.example.com", path: "/a"}, "wild"},
		{"wildcard path match", req{host: "x.b.example.com", path: "/b/1"}, "wild-b"},
		{"other host", req{host: "example.org", path: "/"}, "any"},
		{"suffix without dot", req{host: "notexample.com", path: "/"}, "any"},
		{"empty host", req{host: ":80", path: "/"}, "any"},
	})
}

func TestHostForms(t *testing.T) {
	r := mustNew(t, []Rule[string]{
		{Hosts: []string{"Example.COM"}, Prefix: "/", Value: "example"},
		{Hosts: []string{"[::1]"}, Prefix: "/", Value: "v6"},
		{Hosts: []string{"2001:db8::1"}, Prefix: "/", Value: "v6b"},
		{Hosts: []string{"127.0.0.1"}, Prefix: "/", Value: "v4"},
		{Hosts: []string{"*.Wild.example.org."}, Prefix: "/", Value: "wild"},
	})
	runMatches(t, r, []matchCase{
		{"lower", req{host: "example.com", path: "/"}, "example"},
		{"port", req{host: "example.com:8080", path: "/"}, "example"},
		{"upper", req{host: "EXAMPLE.com", path: "/"}, "example"},
		{"upper with port", req{host: "ExAmPlE.CoM:443", path: "/"}, "example"},
		{"trailing dot", req{host: "example.com.", path: "/"}, "example"},
		{"trailing dot with port", req{host: "example.com.:80", path: "/"}, "example"},
		{"two trailing dots", req{host: "example.com..", path: "/"}, ""},
		{"ipv6 bracketed with port", req{host: "[::1]:8080", path: "/"}, "v6"},
		{"ipv6 bracketed", req{host: "[::1]", path: "/"}, "v6"},
		{"ipv6 bare", req{host: "::1", path: "/"}, "v6"},
		{"ipv6 upper", req{host: "[2001:DB8::1]:443", path: "/"}, "v6b"},
		{"ipv6 unterminated", req{host: "[::1", path: "/"}, ""},
		{"ipv4 with port", req{host: "127.0.0.1:80", path: "/"}, "v4"},
		{"wildcard upper", req{host: "A.B.WILD.EXAMPLE.ORG:1", path: "/"}, "wild"},
		{"wildcard trailing dot", req{host: "a.wild.example.org.", path: "/"}, "wild"},
		{"wildcard apex", req{host: "wild.example.org", path: "/"}, ""},
		{"leading dot is no label", req{host: ".wild.example.org", path: "/"}, ""},
		{"too long", req{host: longHost("example.com"), path: "/"}, ""},
	})
}

// longHost returns a name longer than any DNS name, ending in suffix.
func longHost(suffix string) string {
	b := make([]byte, 0, 300)
	for len(b) < 260 {
		b = append(b, "abcdefghi."...)
	}
	return string(b) + suffix
}

func TestMultipleHosts(t *testing.T) {
	r := mustNew(t, []Rule[string]{
		{Hosts: []string{"a.com", "*.b.com", "A.COM"}, Prefix: "/", Value: "ab"},
		{Hosts: []string{"x.b.com"}, Prefix: "/x", Value: "x"},
	})
	runMatches(t, r, []matchCase{
		{"first host", req{host: "a.com", path: "/"}, "ab"},
		{"wildcard host", req{host: "y.b.com", path: "/"}, "ab"},
		{"exact beats shared wildcard", req{host: "x.b.com", path: "/x"}, "x"},
		{"exact falls through to shared wildcard", req{host: "x.b.com", path: "/y"}, "ab"},
		{"unlisted", req{host: "c.com", path: "/"}, ""},
	})
}

func TestConditions(t *testing.T) {
	r := mustNew(t, []Rule[string]{
		{Prefix: "/api", Value: "api"},
		{Prefix: "/api", Methods: []string{"POST", "PUT"}, Value: "api-write"},
		{Prefix: "/api", Headers: []Header{{"x-version", "2"}}, Value: "api-v2"},
		{Prefix: "/api", Methods: []string{"POST"}, Headers: []Header{{"X-Version", "2"}}, Value: "api-v2-post"},
		{Prefix: "/api/beta", Headers: []Header{{"X-Beta", "*"}}, Value: "beta"},
		{Prefix: "/admin", Methods: []string{"GET"}, Value: "admin-read"},
		{Prefix: "/", Value: "web"},
	})
	v2 := http.Header{"X-Version": {"1", "2"}}
	runMatches(t, r, []matchCase{
		{"no conditions", req{path: "/api/x"}, "api"},
		{"method", req{path: "/api/x", method: "PUT"}, "api-write"},
		{"method is case-sensitive", req{path: "/api/x", method: "put"}, "api"},
		{"header", req{path: "/api/x", header: v2}, "api-v2"},
		{"header wrong value", req{path: "/api/x", header: http.Header{"X-Version": {"3"}}}, "api"},
		{"header value case matters", req{path: "/api/x", header: http.Header{"X-Version": {"2 "}}}, "api"},
		{"two conditions beat one", req{path: "/api/x", method: "POST", header: v2}, "api-v2-post"},
		{"equal conditions: file order", req{path: "/api/x", method: "PUT", header: v2}, "api-write"},
		{"presence", req{path: "/api/beta/1", header: http.Header{"X-Beta": {""}}}, "beta"},
		{"presence missing falls back to shorter prefix", req{path: "/api/beta/1"}, "api"},
		{"presence with empty list", req{path: "/api/beta", header: http.Header{"X-Beta": {}}}, "api"},
		{"longer prefix beats more conditions", req{path: "/api/beta", method: "POST", header: http.Header{"X-Beta": {"1"}, "X-Version": {"2"}}}, "beta"},
		{"method mismatch falls back to root", req{path: "/admin", method: "DELETE"}, "web"},
		{"nil header", req{path: "/api", method: "HEAD"}, "api"},
	})
}

func isTLS(r *http.Request) bool { return r.TLS != nil }

func TestCond(t *testing.T) {
	r := mustNew(t, []Rule[string]{
		{Prefix: "/api", Value: "api"},
		{Prefix: "/api", Cond: isTLS, Value: "api-tls"},
		{Prefix: "/api", Methods: []string{"PUT"}, Value: "api-put"},
		{Prefix: "/api", Methods: []string{"POST"}, Cond: isTLS, Value: "api-post-tls"},
		{Prefix: "/api/v2", Value: "v2"},
		{Hosts: []string{"tls.example.com"}, Prefix: "/", Cond: isTLS, Value: "tls-host"},
	})
	runMatches(t, r, []matchCase{
		{"plain", req{path: "/api/x"}, "api"},
		{"cond", req{path: "/api/x", tls: true}, "api-tls"},
		{"cond counts as a condition: tie goes to file order", req{path: "/api/x", method: "PUT", tls: true}, "api-tls"},
		{"method without cond", req{path: "/api/x", method: "PUT"}, "api-put"},
		{"method and cond beat one condition", req{path: "/api/x", method: "POST", tls: true}, "api-post-tls"},
		{"cond fails: fewer conditions", req{path: "/api/x", method: "POST"}, "api"},
		{"longer prefix beats cond", req{path: "/api/v2/x", tls: true}, "v2"},
		{"host group passed over when cond fails", req{host: "tls.example.com", path: "/api"}, "api"},
		{"host group with cond", req{host: "tls.example.com", path: "/api", tls: true}, "tls-host"},
	})
}

// TestCondAskedLast checks that Cond runs only for a rule whose host,
// path, method and headers matched, once per such rule.
func TestCondAskedLast(t *testing.T) {
	var asked []string
	cond := func(name string) func(*http.Request) bool {
		return func(*http.Request) bool { asked = append(asked, name); return false }
	}
	r := mustNew(t, []Rule[string]{
		{Prefix: "/", Value: "root"},
		{Prefix: "/a", Cond: cond("a"), Value: "a"},
		{Prefix: "/a", Methods: []string{"POST"}, Cond: cond("a-post"), Value: "a-post"},
		{Prefix: "/a", Headers: []Header{{"X-A", "*"}}, Cond: cond("a-header"), Value: "a-header"},
		{Prefix: "/b", Cond: cond("b"), Value: "b"},
		{Hosts: []string{"other.example"}, Prefix: "/", Cond: cond("other"), Value: "other"},
	})
	if got := match(r, req{path: "/a/x"}); got != "root" || !slices.Equal(asked, []string{"a"}) {
		t.Errorf("got %q, asked %q; want root, [a]", got, asked)
	}
}

func TestTieBreakFileOrder(t *testing.T) {
	a := Rule[string]{Prefix: "/x", Methods: []string{"GET"}, Value: "a"}
	b := Rule[string]{Prefix: "/x/", Headers: []Header{{"Accept", "*"}}, Value: "b"}
	h := http.Header{"Accept": {"*/*"}}
	if got := match(mustNew(t, []Rule[string]{a, b}), req{path: "/x", header: h}); got != "a" {
		t.Errorf("a first: got %q, want a", got)
	}
	if got := match(mustNew(t, []Rule[string]{b, a}), req{path: "/x", header: h}); got != "b" {
		t.Errorf("b first: got %q, want b", got)
	}
}

func TestRulesAreCopied(t *testing.T) {
	rules := []Rule[string]{{Prefix: "/", Methods: []string{"GET"}, Headers: []Header{{"X-A", "1"}}, Value: "v"}}
	r := mustNew(t, rules)
	rules[0].Methods[0] = "POST"
	rules[0].Headers[0].Value = "2"
	if got := match(r, req{path: "/", header: http.Header{"X-A": {"1"}}}); got != "v" {
		t.Fatalf("after editing the rules: got %q, want v", got)
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		rule Rule[string]
	}{
		{"empty prefix", Rule[string]{}},
		{"relative prefix", Rule[string]{Prefix: "api"}},
		{"prefix with dot dot", Rule[string]{Prefix: "/api/../admin"}},
		{"prefix with double slash", Rule[string]{Prefix: "/api//v1"}},
		{"prefix with lower hex", Rule[string]{Prefix: "/caf%c3%a9"}},
		{"prefix with bad escape", Rule[string]{Prefix: "/%zz"}},
		{"empty host", Rule[string]{Hosts: []string{""}, Prefix: "/"}},
		{"bare star", Rule[string]{Hosts: []string{"*"}, Prefix: "/"}},
		{"star dot", Rule[string]{Hosts: []string{"*."}, Prefix: "/"}},
		{"star without dot", Rule[string]{Hosts: []string{"*example.com"}, Prefix: "/"}},
		{"inner star", Rule[string]{Hosts: []string{"a.*.com"}, Prefix: "/"}},
		{"double star", Rule[string]{Hosts: []string{"*.*.com"}, Prefix: "/"}},
		{"star in label", Rule[string]{Hosts: []string{"a*.com"}, Prefix: "/"}},
		{"empty label", Rule[string]{Hosts: []string{"a..com"}, Prefix: "/"}},
		{"wildcard empty label", Rule[string]{Hosts: []string{"*..com"}, Prefix: "/"}},
		{"port", Rule[string]{Hosts: []string{"example.com:8080"}, Prefix: "/"}},
		{"bracketed ipv6 with port", Rule[string]{Hosts: []string{"[::1]:80"}, Prefix: "/"}},
		{"slash in host", Rule[string]{Hosts: []string{"example.com/api"}, Prefix: "/"}},
		{"too long", Rule[string]{Hosts: []string{longHost("com")}, Prefix: "/"}},
		{"empty method", Rule[string]{Prefix: "/", Methods: []string{""}}},
		{"empty header name", Rule[string]{Prefix: "/", Headers: []Header{{"", "x"}}}},
		{"bad header name", Rule[string]{Prefix: "/", Headers: []Header{{"X Y", "x"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok := Rule[string]{Prefix: "/"}
			if _, err := New([]Rule[string]{ok, tt.rule}); err == nil {
				t.Fatal("New succeeded, want an error")
			} else {
				t.Log(err)
			}
		})
	}
}

func TestConcurrentMatch(t *testing.T) {
	r := mustNew(t, largeRules())
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				host := fmt.Sprintf("SVC%02d.example.com", (g*31+i)%100)
				if _, ok := r.Match(host, "/api/v1/x", &http.Request{Method: "GET"}); !ok && (g*31+i)%10 != 0 {
					t.Errorf("%s: no match", host)
					return
				}
			}
		})
	}
	wg.Wait()
}
