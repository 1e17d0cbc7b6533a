package e2e

import (
	"net/http"
	"slices"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

func TestRedirect(t *testing.T) {
	t.Parallel()
	g := testkit.Start(t, `
routes:
  - {match: {path: /moved}, redirect: {to: "https://new.example.com/landing"}}
  - {match: {path: /perm}, redirect: {to: "https://new.example.com", status: 301, append_path: true}}
  - {match: {path: /old-api}, redirect: {to: /api, status: 308, append_path: true}, rewrite: {strip_prefix: /old-api}}
  - {match: {path: /slash}, redirect: {to: "https://x.example/base/", status: 307, append_path: true}, rewrite: {strip_prefix: /slash}}
  - {match: {path: /q}, redirect: {to: "/search?src=old", status: 303, append_path: true}, rewrite: {strip_prefix: /q}}
`, nil)

	cases := []struct {
		target   string
		status   int
		location string
	}{
		{"/moved", 302, "https://new.example.com/landing"},
		{"/moved/deep?x=1", 302, "https://new.example.com/landing"}, // no append_path: To as is
		{"/perm/a/b?x=1&y=2", 301, "https://new.example.com/perm/a/b?x=1&y=2"},
		{"/old-api/users?page=2", 308, "/api/users?page=2"},
		{"/old-api", 308, "/api/"},
		{"/old-api/a%20b", 308, "/api/a%20b"},
		{"/slash/x", 307, "https://x.example/base/x"},
		// The path goes before To's query, the request's query after it.
		{"/q/term?page=3", 303, "/search/term?src=old&page=3"},
		{"/q/term", 303, "/search/term?src=old"},
	}
	for _, tc := range cases {
		t.Run(tc.target, func(t *testing.T) {
			res, body := testkit.RoundTrip(t, g.Addr, "GET "+tc.target+" HTTP/1.1\nHost: x\n\n")
			if res.StatusCode != tc.status || res.Header.Get("Location") != tc.location {
				t.Errorf("got %d Location %q, want %d %q", res.StatusCode, res.Header.Get("Location"), tc.status, tc.location)
			}
			if body != "" {
				t.Errorf("body %q", body)
			}
		})
	}
}

func TestRespond(t *testing.T) {
	t.Parallel()
	g := testkit.Start(t, `
routes:
  - match: {path: /teapot}
    respond:
      status: 418
      body: "short and stout\n"
      headers: {Content-Type: text/plain, X-Kettle: "on", Cache-Control: no-store}
  - {match: {path: /html}, respond: {body: "<!doctype html><p>hi"}}
  - {match: {path: /empty}, respond: {status: 204, body: ignored}}
`, nil)

	res, body := g.Get("/teapot")
	if res.StatusCode != 418 || body != "short and stout\n" {
		t.Errorf("teapot: %d %q", res.StatusCode, body)
	}
	for k, v := range map[string]string{"Content-Type": "text/plain", "X-Kettle": "on", "Cache-Control": "no-store", "Content-Length": "16"} {
		check(t, res.Header, k, v)
	}
	res, body = g.Get("/html")
	if res.StatusCode != 200 || body != "<!doctype html><p>hi" || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("html: %d %q %q", res.StatusCode, body, res.Header.Get("Content-Type"))
	}
	res, body = g.Get("/empty")
	if res.StatusCode != 204 || body != "" {
		t.Errorf("204: %d %q", res.StatusCode, body)
	}
	res, body = g.Do(g.NewRequest(http.MethodHead, "/teapot", nil))
	if res.StatusCode != 418 || body != "" {
		t.Errorf("HEAD: %d %q", res.StatusCode, body)
	}
}

// TestResponseHeaders applies the same response_headers block to each kind
// of route, including error answers from the funnel's callers.
func TestResponseHeaders(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", testkit.Fixed(200, "upstream",
		"X-Powered-By", "php", "X-Multi", "from-backend", "X-Replace", "old"))
	root := assetsDir(t, map[string]string{"f.txt": "file"})
	ops := `{set: {X-Replace: new, X-Frame-Options: DENY}, add: {X-Multi: added}, remove: [X-Powered-By, Server]}`
	g := testkit.Start(t, `
routes:
  - {match: {path: /up}, upstream: "${B}", response_headers: `+ops+`}
  - {match: {path: /static}, static: {root: "${ROOT}"}, rewrite: {strip_prefix: /static}, response_headers: `+ops+`}
  - {match: {path: /redirect}, redirect: {to: /x}, response_headers: `+ops+`}
  - match: {path: /respond}
    respond: {body: fixed, headers: {X-Powered-By: asp, X-Multi: from-respond, X-Replace: old}}
    response_headers: `+ops+`
`, testkit.Vars{"B": b.URL, "ROOT": root})

	cases := []struct {
		path   string
		status int
		multi  []string
	}{
		{"/up", 200, []string{"from-backend", "added"}},
		{"/static/f.txt", 200, []string{"added"}},
		{"/static/missing", 404, []string{"added"}},
		{"/redirect", 302, []string{"added"}},
		{"/respond", 200, []string{"from-respond", "added"}},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			for range 2 { // the second time shows no edit piled up on shared state
				res, _ := g.Get(tc.path)
				if res.StatusCode != tc.status {
					t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
				}
				check(t, res.Header, "X-Frame-Options", "DENY")
				if got := res.Header.Values("X-Multi"); !slices.Equal(got, tc.multi) {
					t.Errorf("X-Multi %q, want %q", got, tc.multi)
				}
				if v, ok := res.Header["X-Powered-By"]; ok {
					t.Errorf("X-Powered-By %q not removed", v)
				}
				check(t, res.Header, "X-Replace", "new")
			}
		})
	}
}
