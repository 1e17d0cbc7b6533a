package e2e

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestEdgeMiddlewareWired: ip_filter, cors and request_limits from the
// config, in the table's order, through the real server.
func TestEdgeMiddlewareWired(t *testing.T) {
	var hits atomic.Int64
	be := testkit.NewBackend(t, "api", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Access-Control-Allow-Origin", "*") // a backend's own, to be replaced
		w.Write([]byte("ok"))
	}))
	g := testkit.Start(t, `
trusted_proxies: [127.0.0.1]
routes:
  - upstream: ${API}
    ip_filter: {allow: [192.0.2.0/24], deny: [192.0.2.66]}
    cors: {allow_origins: ["https://*.example.com"], allow_methods: [GET, PUT], allow_headers: [Content-Type], max_age: 10m}
    request_limits: {max_uri_bytes: 64, methods: [GET, PUT]}
`, testkit.Vars{"API": be.URL})
	from := func(ip string, h ...string) []string { return append([]string{"X-Forwarded-For", ip}, h...) }
	for _, tc := range []struct {
		name   string
		method string
		path   string
		header []string
		want   int
		check  func(t *testing.T, res *http.Response)
	}{
		{"allowed client", "GET", "/", from("192.0.2.1"), 200, nil},
		{"denied client", "GET", "/", from("192.0.2.66"), 403, nil},
		{"client outside allow", "GET", "/", from("198.51.100.1"), 403, nil},
		{"preflight answered here", "OPTIONS", "/", from("192.0.2.1", "Origin", "https://app.example.com", "Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "content-type"), 204,
			func(t *testing.T, res *http.Response) {
				if res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || res.Header.Get("Access-Control-Max-Age") != "600" {
					t.Errorf("preflight headers %v", res.Header)
				}
			}},
		{"actual request from an allowed origin", "GET", "/", from("192.0.2.1", "Origin", "https://a.b.example.com"), 200,
			func(t *testing.T, res *http.Response) {
				if res.Header.Get("Access-Control-Allow-Origin") != "https://a.b.example.com" || !strings.Contains(res.Header.Get("Vary"), "Origin") {
					t.Errorf("ACAO %q, Vary %q", res.Header.Get("Access-Control-Allow-Origin"), res.Header.Get("Vary"))
				}
			}},
		{"disallowed origin gets no CORS headers", "GET", "/", from("192.0.2.1", "Origin", "https://evil-example.com"), 200,
			func(t *testing.T, res *http.Response) {
				if v := res.Header.Get("Access-Control-Allow-Origin"); v != "" {
					t.Errorf("ACAO %q for a disallowed origin (the backend's * must not pass)", v)
				}
			}},
		{"method not allowed", "POST", "/", from("192.0.2.1"), 405,
			func(t *testing.T, res *http.Response) {
				if a := res.Header.Get("Allow"); a != "GET, HEAD, PUT" {
					t.Errorf("Allow %q", a)
				}
			}},
		{"URI too long", "GET", "/" + strings.Repeat("x", 80), from("192.0.2.1"), 414, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := hits.Load()
			res, _ := g.Do(g.NewRequest(tc.method, tc.path, nil, tc.header...))
			if res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.want)
			}
			if reached := hits.Load() != before; reached != (tc.want == 200) {
				t.Errorf("reached the backend: %v", reached)
			}
			if tc.check != nil {
				tc.check(t, res)
			}
		})
	}
}

// A listener's ip_filter refuses before routing, whatever the route.
func TestListenerIPFilter(t *testing.T) {
	be := testkit.NewBackend(t, "api", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	g := testkit.Start(t, `
listeners:
  - {name: inside, address: "${LISTEN}", ip_filter: {allow: [192.0.2.0/24, 127.0.0.1]}}
trusted_proxies: [127.0.0.1]
routes:
  - upstream: ${API}
`, testkit.Vars{"API": be.URL})
	for ip, want := range map[string]int{"192.0.2.9": 200, "198.51.100.9": 403} {
		if res, _ := g.Get("/", "X-Forwarded-For", ip); res.StatusCode != want {
			t.Errorf("client %s: %d, want %d", ip, res.StatusCode, want)
		}
	}
	if res, _ := g.Get("/no/such/route/either"); res.StatusCode != 200 {
		t.Errorf("the proxy itself (127.0.0.1, no forwarding header): %d, want 200", res.StatusCode)
	}
	if got := g.Logs.String(); !strings.Contains(got, "listener inside ip_filter: client 198.51.100.9 is not allowed") {
		t.Errorf("no log line names the refusal:\n%s", got)
	}
}
