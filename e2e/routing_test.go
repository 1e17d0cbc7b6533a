package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

func TestRouting(t *testing.T) {
	t.Parallel()
	_, vars := newBackends(t, "api", "v2", "app", "hostx", "wild", "write", "beta")
	vars["ASSETS"] = assetsDir(t, map[string]string{"app.js": "console.log('assets')"})
	g := testkit.Start(t, `
routes:
  - {name: api, match: {path: /api}, upstream: "${API}"}
  - {name: api-v2, match: {path: /api/v2/}, upstream: "${V2}"}
  - name: assets
    match: {path: /assets}
    static: {root: "${ASSETS}"}
    rewrite: {strip_prefix: /assets}
  - {name: app, match: {path: /}, upstream: "${APP}"}
  - {name: host-exact, match: {host: api.example.com}, upstream: "${HOSTX}"}
  - {name: host-wild, match: {host: "*.example.com"}, upstream: "${WILD}"}
  - {name: write, match: {path: /write, methods: [POST, PUT]}, upstream: "${WRITE}"}
  - {name: beta, match: {path: /beta, headers: {X-Beta: "yes"}}, upstream: "${BETA}"}
`, vars)

	cases := []struct {
		name, method, host, path string
		header                   []string
		want                     string // backend name, or the body of a static file
	}{
		{name: "api", path: "/api", want: "api"},
		{name: "api subpath", path: "/api/users/1", want: "api"},
		{name: "api trailing slash", path: "/api/", want: "api"},
		{name: "v2 beats api", path: "/api/v2/users", want: "v2"},
		{name: "v2 exact", path: "/api/v2", want: "v2"},
		{name: "v20 is not v2", path: "/api/v20", want: "api"},
		{name: "apiary is not api", path: "/apiary", want: "app"},
		{name: "static", path: "/assets/app.js", want: "console.log('assets')"},
		{name: "root", path: "/", want: "app"},
		{name: "page", path: "/about/team", want: "app"},
		{name: "exact host", host: "api.example.com", path: "/api", want: "hostx"},
		{name: "exact host is case-insensitive", host: "API.Example.COM", path: "/x", want: "hostx"},
		{name: "exact host with port", host: "api.example.com:8080", path: "/x", want: "hostx"},
		{name: "exact host with trailing dot", host: "api.example.com.", path: "/x", want: "hostx"},
		{name: "wildcard host", host: "www.example.com", path: "/", want: "wild"},
		{name: "wildcard at depth", host: "a.b.example.com:443", path: "/", want: "wild"},
		{name: "wildcard is not the apex", host: "example.com", path: "/", want: "app"},
		{name: "other host", host: "example.org", path: "/api", want: "api"},
		{name: "method matches", method: "POST", path: "/write", want: "write"},
		{name: "method matches PUT", method: "PUT", path: "/write/x", want: "write"},
		{name: "other method falls back", method: "GET", path: "/write", want: "app"},
		{name: "header matches", path: "/beta/x", header: []string{"X-Beta", "yes"}, want: "beta"},
		{name: "header value differs", path: "/beta/x", header: []string{"X-Beta", "no"}, want: "app"},
		{name: "header missing", path: "/beta/x", want: "app"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			hdr := tc.header
			if tc.host != "" {
				hdr = append(hdr, "Host", tc.host)
			}
			res, body := g.Do(g.NewRequest(method, tc.path, nil, hdr...))
			if res.StatusCode != http.StatusOK || body != tc.want {
				t.Fatalf("%s %s (host %q): got %d %q, want 200 %q", method, tc.path, tc.host, res.StatusCode, body, tc.want)
			}
		})
	}
}

func TestNoRoute(t *testing.T) {
	t.Parallel()
	bs, vars := newBackends(t, "api")
	g := testkit.Start(t, `
routes:
  - {name: api, match: {path: /api}, upstream: "${API}"}
`, vars)

	t.Run("text", func(t *testing.T) {
		res, body := g.Get("/nothing/here")
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d, want 404", res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("Content-Type %q, want text/plain", ct)
		}
		if body != "404 no route for this request\n" {
			t.Errorf("body %q", body)
		}
		if res.Header.Get("X-Request-Id") == "" {
			t.Error("no X-Request-Id on the 404")
		}
	})
	t.Run("json", func(t *testing.T) {
		res, body := g.Get("/apiary", "Accept", "application/json")
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("status %d, want 404", res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q, want application/json", ct)
		}
		var msg struct {
			Status    int    `json:"status"`
			Error     string `json:"error"`
			RequestID string `json:"request_id"`
		}
		if err := json.Unmarshal([]byte(body), &msg); err != nil {
			t.Fatalf("body %q is not JSON: %v", body, err)
		}
		if msg.Status != 404 || msg.Error != "no route for this request" || msg.RequestID != res.Header.Get("X-Request-Id") {
			t.Errorf("body %+v, request ID header %q", msg, res.Header.Get("X-Request-Id"))
		}
	})
	if n := bs["api"].Hits(); n != 0 {
		t.Errorf("api backend got %d requests", n)
	}
}

func TestDefaultRoute(t *testing.T) {
	t.Parallel()
	_, vars := newBackends(t, "api", "fallback")
	g := testkit.Start(t, `
routes:
  - {name: api, match: {path: /api, host: api.local}, upstream: "${API}"}
default_route:
  upstream: "${FALLBACK}"
`, vars)
	for _, tc := range []struct{ host, path, want string }{
		{"api.local", "/api/x", "api"},
		{"api.local", "/other", "fallback"},
		{"else.local", "/api/x", "fallback"},
	} {
		res, body := g.Get(tc.path, "Host", tc.host)
		if res.StatusCode != 200 || body != tc.want {
			t.Errorf("%s%s: got %d %q, want %q", tc.host, tc.path, res.StatusCode, body, tc.want)
		}
	}
	g.Access.Wait(t, 5*time.Second, "request", "path", "/other", "route", "default")
}

// TestExampleConfig runs examples/gatehouse.yaml, the file the README and
// `gatehouse demo` use, against test backends: the documented topology must
// work as its comments say.
func TestExampleConfig(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../examples/gatehouse.yaml")
	if err != nil {
		t.Fatal(err)
	}
	api1 := testkit.NewBackend(t, "api-1", nil)
	api2 := testkit.NewBackend(t, "api-2", nil)
	app := testkit.NewBackend(t, "app", nil)
	echo := testkit.NewBackend(t, "echo", testkit.WebSocketEcho())
	assets, err := filepath.Abs("../examples/assets")
	if err != nil {
		t.Fatal(err)
	}
	style, err := os.ReadFile(filepath.Join(assets, "style.css"))
	if err != nil {
		t.Fatal(err)
	}
	vars := testkit.Vars{
		"GATEHOUSE_LISTEN": testkit.AnyPort,
		"API_1":            api1.URL, "API_2": api2.URL, "APP": app.URL, "ECHO": echo.URL,
		"ASSETS": assets,
	}
	g := testkit.Start(t, string(data), vars)

	seen := map[string]bool{}
	for range 4 {
		res, body := g.Get("/api/hello?x=1")
		if res.StatusCode != 200 {
			t.Fatalf("/api/hello: %d %q", res.StatusCode, body)
		}
		seen[body] = true
	}
	if !seen["api-1"] || !seen["api-2"] {
		t.Errorf("api round robin reached %v, want both instances", seen)
	}
	for _, b := range []*testkit.Backend{api1, api2} {
		if got := b.Last().RequestURI; got != "/hello?x=1" {
			t.Errorf("%s saw %q, want the /api prefix stripped: /hello?x=1", b.Name, got)
		}
	}

	res, body := g.Get("/assets/style.css")
	if res.StatusCode != 200 || body != string(style) || res.Header.Get("Cache-Control") != "public, max-age=60" {
		t.Errorf("/assets/style.css: %d, Cache-Control %q, body matches: %v", res.StatusCode, res.Header.Get("Cache-Control"), body == string(style))
	}
	res, _ = g.Get("/old-api/users?page=2")
	if res.StatusCode != 308 || res.Header.Get("Location") != "/api/users?page=2" {
		t.Errorf("/old-api/users: %d Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, body = g.Get("/healthz")
	if res.StatusCode != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", res.StatusCode, body)
	}
	res, body = g.Get("/some/page")
	if res.StatusCode != 200 || body != "app" || res.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("/some/page: %d %q X-Frame-Options %q", res.StatusCode, body, res.Header.Get("X-Frame-Options"))
	}
	if got := app.Last().Header.Get("Forwarded"); got != "for=127.0.0.1;host=\""+g.Addr+"\";proto=http" {
		t.Errorf("app saw Forwarded %q (forwarding.forwarded is on in the example)", got)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	ws, _ := testkit.DialWebSocket(t, "ws://"+g.Addr+"/ws", nil)
	if err := ws.Write(ctx, websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, msg, err := ws.Read(ctx); err != nil || string(msg) != "hi" {
		t.Fatalf("echo: %q %v", msg, err)
	}
	ws.Close(websocket.StatusNormalClosure, "")
}
