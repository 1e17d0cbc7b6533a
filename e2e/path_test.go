package e2e

import (
	"net/http"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestPathNormalization sends raw request lines (net/http's client would
// clean some of them) and checks both which route took the request and
// the exact request-target the backend received: without a rewrite it is
// the client's original, unnormalized one.
func TestPathNormalization(t *testing.T) {
	t.Parallel()
	bs, vars := newBackends(t, "api", "admin", "app")
	g := testkit.Start(t, `
routes:
  - {name: api, match: {path: /api}, upstream: "${API}"}
  - {name: admin, match: {path: /admin}, upstream: "${ADMIN}"}
  - {name: app, match: {path: /}, upstream: "${APP}"}
`, vars)

	cases := []struct {
		name, target string
		backend      string // which backend must get it
		wantURI      string // the request-target it must see
	}{
		{"dot-dot leaves the api prefix", "/api/../admin", "admin", "/api/../admin"},
		{"dot-dot with query", "/api/../admin/x?q=1&r=%20", "admin", "/api/../admin/x?q=1&r=%20"},
		{"encoded dot-dot", "/api/%2e%2e/admin", "admin", "/api/%2e%2e/admin"},
		{"dot segments", "/./api/./v1/", "api", "/./api/./v1/"},
		{"double slash", "//api//x", "api", "//api//x"},
		{"dot-dot above root", "/../../admin", "admin", "/../../admin"},
		{"encoded unreserved", "/%61pi/x", "api", "/%61pi/x"},
		{"encoded slash preserved", "/api/a%2Fb", "api", "/api/a%2Fb"},
		{"encoded slash lower-case preserved", "/api/a%2fb", "api", "/api/a%2fb"},
		{"encoded slash is not a separator", "/api%2F..%2Fadmin", "app", "/api%2F..%2Fadmin"},
		{"encoded space", "/api/a%20b?x=%2F", "api", "/api/a%20b?x=%2F"},
		{"utf-8", "/api/caf%C3%A9", "api", "/api/caf%C3%A9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, b := range bs {
				b.Reset()
			}
			res, body := testkit.RoundTrip(t, g.Addr, "GET "+tc.target+" HTTP/1.1\nHost: example.com\nConnection: close\n\n")
			if res.StatusCode != http.StatusOK || body != tc.backend {
				t.Fatalf("GET %s: got %d %q, want 200 from %s", tc.target, res.StatusCode, body, tc.backend)
			}
			if got := bs[tc.backend].Last().RequestURI; got != tc.wantURI {
				t.Errorf("GET %s: backend saw %q, want %q", tc.target, got, tc.wantURI)
			}
		})
	}
}

// TestRewrite checks the upstream request-target produced by each rewrite,
// query included.
func TestRewrite(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
routes:
  - {name: strip, match: {path: /strip}, upstream: "${B}", rewrite: {strip_prefix: /strip}}
  - {name: strip-slash, match: {path: /s2/}, upstream: "${B}", rewrite: {strip_prefix: /s2/}}
  - {name: add, match: {path: /add}, upstream: "${B}", rewrite: {add_prefix: /v1}}
  - {name: both, match: {path: /both}, upstream: "${B}", rewrite: {strip_prefix: /both, add_prefix: /internal/}}
  - {name: replace, match: {path: /old/api}, upstream: "${B}", rewrite: {replace_prefix: {from: /old, to: /new}}}
  - {name: replace-root, match: {path: /svc}, upstream: "${B}", rewrite: {replace_prefix: {from: /svc, to: /}}}
`, testkit.Vars{"B": b.URL})

	cases := []struct{ target, want string }{
		{"/strip/users?id=1", "/users?id=1"},
		{"/strip", "/"},
		{"/strip/", "/"},
		{"/strip?x", "/?x"},
		{"/strip/a%20b", "/a%20b"},
		{"/strip/a%2Fb", "/a%2Fb"},
		{"/strip/x/../y", "/y"},
		{"/s2/z", "/z"},
		{"/add/x?q=1", "/v1/add/x?q=1"},
		{"/add", "/v1/add"},
		{"/both/a?b=c", "/internal/a?b=c"},
		{"/old/api/x?q=1", "/new/api/x?q=1"},
		{"/svc/x", "/x"},
		{"/svc", "/"},
	}
	for _, tc := range cases {
		t.Run(tc.target, func(t *testing.T) {
			res, body := testkit.RoundTrip(t, g.Addr, "GET "+tc.target+" HTTP/1.1\nHost: example.com\nConnection: close\n\n")
			if res.StatusCode != 200 {
				t.Fatalf("GET %s: %d %q", tc.target, res.StatusCode, body)
			}
			if got := b.Last().RequestURI; got != tc.want {
				t.Errorf("GET %s: backend saw %q, want %q", tc.target, got, tc.want)
			}
		})
	}
}

func TestHostHeader(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
routes:
  - {name: keep, match: {path: /keep}, upstream: "${B}"}
  - {name: target, match: {path: /target}, upstream: "${B}", host_header: target}
  - {name: fixed, match: {path: /fixed}, upstream: "${B}", host_header: "internal.svc:8443"}
`, testkit.Vars{"B": b.URL})

	for _, tc := range []struct{ path, want string }{
		{"/keep", "app.example.com:8080"},
		{"/target", b.Addr},
		{"/fixed", "internal.svc:8443"},
	} {
		res, _ := g.Get(tc.path, "Host", "app.example.com:8080")
		if res.StatusCode != 200 {
			t.Fatalf("%s: status %d", tc.path, res.StatusCode)
		}
		last := b.Last()
		if last.Host != tc.want {
			t.Errorf("%s: backend saw Host %q, want %q", tc.path, last.Host, tc.want)
		}
		if got := last.Header.Get("X-Forwarded-Host"); got != "app.example.com:8080" {
			t.Errorf("%s: X-Forwarded-Host %q, want the client's Host", tc.path, got)
		}
	}
}
