package e2e

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

func TestForwardingHeaders(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	t.Run("added", func(t *testing.T) {
		res, _ := g.Get("/x", "Host", "shop.example.com")
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		h := b.Last().Header
		want := map[string]string{
			"X-Forwarded-For":   "127.0.0.1",
			"X-Forwarded-Proto": "http",
			"X-Forwarded-Host":  "shop.example.com",
			"X-Real-Ip":         "127.0.0.1",
		}
		for k, v := range want {
			if got := h.Values(k); len(got) != 1 || got[0] != v {
				t.Errorf("%s: %q, want %q", k, got, v)
			}
		}
		if _, ok := h["Forwarded"]; ok {
			t.Errorf("Forwarded %q sent although forwarding.forwarded is off", h["Forwarded"])
		}
		if _, ok := h["Via"]; ok {
			t.Errorf("Via %q sent although forwarding.via is off", h["Via"])
		}
	})

	t.Run("spoofed by an untrusted client", func(t *testing.T) {
		res, _ := g.Get("/x",
			"X-Forwarded-For", "1.2.3.4",
			"X-Forwarded-For", "5.6.7.8",
			"Forwarded", "for=1.2.3.4;proto=https",
			"X-Real-IP", "1.2.3.4",
			"X-Forwarded-Proto", "https",
			"X-Forwarded-Host", "evil.example",
			"X-Forwarded-Port", "443",
			"X-Forwarded-Prefix", "/evil",
			"X-Forwarded-Server", "evil")
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		h := b.Last().Header
		for k, v := range map[string]string{
			"X-Forwarded-For":   "127.0.0.1",
			"X-Real-Ip":         "127.0.0.1",
			"X-Forwarded-Proto": "http",
			"X-Forwarded-Host":  "127.0.0.1",
		} {
			if got := h.Values(k); len(got) != 1 || !strings.HasPrefix(got[0], v) {
				t.Errorf("%s: %q, want only %q", k, got, v)
			}
		}
		for _, k := range []string{"Forwarded", "X-Forwarded-Port", "X-Forwarded-Prefix", "X-Forwarded-Server"} {
			if v, ok := h[k]; ok {
				t.Errorf("spoofed %s: %q reached the backend", k, v)
			}
		}
		if strings.Contains(strings.Join(slices.Concat(h["X-Forwarded-For"], h["X-Real-Ip"]), ","), "1.2.3.4") {
			t.Errorf("spoofed address reached the backend: %v", h)
		}
	})
}

// TestTrustedChain: client 203.0.113.7 -> proxy A 198.51.100.2 -> proxy B
// (127.0.0.1, the test client) -> Gatehouse, which trusts both proxies.
func TestTrustedChain(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
trusted_proxies: [127.0.0.1/32, 198.51.100.0/24]
forwarding: {forwarded: true}
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	t.Run("x-forwarded-for", func(t *testing.T) {
		res, _ := g.Get("/", "X-Forwarded-For", "203.0.113.7, 198.51.100.2", "X-Forwarded-Proto", "https",
			"X-Forwarded-Host", "public.example", "Host", "internal:8080")
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		h := b.Last().Header
		check(t, h, "X-Real-Ip", "203.0.113.7")
		check(t, h, "X-Forwarded-For", "203.0.113.7, 198.51.100.2, 127.0.0.1")
		check(t, h, "X-Forwarded-Proto", "https")
		check(t, h, "X-Forwarded-Host", "public.example")
		check(t, h, "Forwarded", `for=127.0.0.1;host="internal:8080";proto=http`)
	})
	t.Run("forged entry left of the untrusted client", func(t *testing.T) {
		g.Get("/", "X-Forwarded-For", "1.1.1.1, 203.0.113.7, 198.51.100.2")
		check(t, b.Last().Header, "X-Real-Ip", "203.0.113.7")
	})
	t.Run("forwarded only", func(t *testing.T) {
		g.Get("/", "Forwarded", `for=203.0.113.9;proto=https, for=198.51.100.2`)
		h := b.Last().Header
		check(t, h, "X-Real-Ip", "203.0.113.9")
		check(t, h, "X-Forwarded-For", "203.0.113.9, 127.0.0.1")
		check(t, h, "Forwarded", `for=203.0.113.9;proto=https, for=198.51.100.2, for=127.0.0.1;host="`+g.Addr+`";proto=http`)
	})
}

func TestForwardedAndVia(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", testkit.Fixed(200, "ok", "Via", "1.0 origin"))
	g := testkit.Start(t, `
forwarding: {forwarded: true, via: true}
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	res, _ := g.Get("/", "Host", "www.example.com", "Via", "1.1 client-proxy", "Forwarded", "for=6.6.6.6")
	h := b.Last().Header
	// The client is not trusted: its Forwarded is replaced, its Via kept.
	check(t, h, "Forwarded", "for=127.0.0.1;host=www.example.com;proto=http")
	check(t, h, "Via", "1.1 client-proxy, 1.1 gatehouse")
	if got := res.Header.Values("Via"); len(got) != 1 || got[0] != "1.0 origin, 1.1 gatehouse" {
		t.Errorf("response Via %q, want %q", got, "1.0 origin, 1.1 gatehouse")
	}
}

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestRequestID(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
routes:
  - {match: {path: /}, upstream: "${B}"}
  - {match: {path: /fixed}, respond: {body: fixed}}
`, testkit.Vars{"B": b.URL})

	t.Run("generated", func(t *testing.T) {
		res, _ := g.Get("/")
		id := res.Header.Get("X-Request-Id")
		if !hexID.MatchString(id) {
			t.Fatalf("response X-Request-Id %q, want 32 hex digits", id)
		}
		check(t, b.Last().Header, "X-Request-Id", id)
		res2, _ := g.Get("/")
		if res2.Header.Get("X-Request-Id") == id {
			t.Errorf("two requests got the same ID %q", id)
		}
	})
	t.Run("passed through", func(t *testing.T) {
		res, _ := g.Get("/", "X-Request-ID", "trace-abc-123")
		if got := res.Header.Get("X-Request-Id"); got != "trace-abc-123" {
			t.Errorf("response X-Request-Id %q", got)
		}
		check(t, b.Last().Header, "X-Request-Id", "trace-abc-123")
	})
	t.Run("invalid replaced", func(t *testing.T) {
		res, _ := g.Get("/", "X-Request-ID", "has space")
		id := res.Header.Get("X-Request-Id")
		if !hexID.MatchString(id) {
			t.Errorf("response X-Request-Id %q, want a fresh one", id)
		}
		check(t, b.Last().Header, "X-Request-Id", id)
	})
	t.Run("local route", func(t *testing.T) {
		res, _ := g.Get("/fixed", "X-Request-ID", "local-1")
		if got := res.Header.Get("X-Request-Id"); got != "local-1" {
			t.Errorf("respond route: X-Request-Id %q", got)
		}
	})
}

// TestHopByHopRequest sends hop-by-hop headers on a raw connection (the
// net/http client would manage Connection itself) and checks that none
// reaches the backend.
func TestHopByHopRequest(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	cases := []struct {
		name    string
		headers string
		gone    []string
		want    map[string]string // headers that must arrive as given
	}{
		{
			name: "standard hop-by-hop",
			headers: "Connection: keep-alive\nKeep-Alive: timeout=5\nProxy-Connection: keep-alive\n" +
				"Proxy-Authorization: Basic c2VjcmV0\nTE: gzip\nUpgrade: websocket\nX-End-To-End: kept\n",
			gone: []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "Te", "Upgrade"},
			want: map[string]string{"X-End-To-End": "kept"},
		},
		{
			name:    "named by Connection",
			headers: "Connection: close, X-Secret\nX-Secret: s3cret\nX-Other: kept\n",
			gone:    []string{"Connection", "X-Secret"},
			want:    map[string]string{"X-Other": "kept"},
		},
		{
			name:    "named by Connection case-insensitively, several lines",
			headers: "Connection: x-one\nConnection: X-TWO , keep-alive\nX-One: 1\nX-Two: 2\n",
			gone:    []string{"Connection", "X-One", "X-Two"},
		},
		{
			name:    "TE trailers kept alone",
			headers: "TE: gzip, trailers\n",
			want:    map[string]string{"Te": "trailers"},
		},
		{
			name:    "Upgrade without Connection: upgrade",
			headers: "Upgrade: h2c\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\nConnection: HTTP2-Settings\n",
			gone:    []string{"Upgrade", "Http2-Settings", "Connection"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := testkit.RoundTrip(t, g.Addr, "GET /hop HTTP/1.1\nHost: example.com\n"+tc.headers+"\n")
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			h := b.Last().Header
			for _, k := range tc.gone {
				if v, ok := h[k]; ok {
					t.Errorf("%s: %q reached the backend", k, v)
				}
			}
			for k, v := range tc.want {
				check(t, h, k, v)
			}
		})
	}
}

func TestHopByHopResponse(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", testkit.RawResponse(testkit.CRLF("HTTP/1.1 200 OK\n"+
		"Content-Length: 2\n"+
		"Connection: keep-alive, X-Backend-Secret\n"+
		"Keep-Alive: timeout=5\n"+
		"Proxy-Connection: keep-alive\n"+
		"Proxy-Authenticate: Basic realm=x\n"+
		"Upgrade: h2c\n"+
		"Te: trailers\n"+
		"X-Backend-Secret: s3cret\n"+
		"X-End-To-End: kept\n"+
		"\nok")))
	g := testkit.Start(t, `
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	res, body := testkit.RoundTrip(t, g.Addr, "GET / HTTP/1.1\nHost: example.com\n\n")
	if res.StatusCode != 200 || body != "ok" {
		t.Fatalf("got %d %q", res.StatusCode, body)
	}
	for _, k := range []string{"Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Upgrade", "Te", "X-Backend-Secret"} {
		if v, ok := res.Header[k]; ok {
			t.Errorf("%s: %q reached the client", k, v)
		}
	}
	if c := res.Header.Get("Connection"); strings.Contains(strings.ToLower(c), "secret") {
		t.Errorf("Connection %q reached the client", c)
	}
	check(t, res.Header, "X-End-To-End", "kept")
}

// TestRequestHeaderEditsDoNotLeak sends requests over one keep-alive
// connection, alternating between a route that edits request headers and
// one that does not: the edits must never show up in the other route's
// requests, nor pile up.
func TestRequestHeaderEditsDoNotLeak(t *testing.T) {
	t.Parallel()
	edit := testkit.NewBackend(t, "edit", nil)
	plain := testkit.NewBackend(t, "plain", nil)
	g := testkit.Start(t, `
routes:
  - match: {path: /edit}
    upstream: "${EDIT}"
    request_headers:
      set: {X-Set: set-by-route}
      add: {X-List: added}
      remove: [X-Remove]
  - {match: {path: /plain}, upstream: "${PLAIN}"}
`, testkit.Vars{"EDIT": edit.URL, "PLAIN": plain.URL})

	c := testkit.Dial(t, g.Addr)
	for i := range 3 {
		c.Send("GET /edit HTTP/1.1\nHost: x\nX-List: client\nX-Remove: gone\nX-Set: client\n\n")
		if res, _ := c.ReadResponse("GET"); res.StatusCode != 200 {
			t.Fatalf("edit %d: %d", i, res.StatusCode)
		}
		h := edit.Last().Header
		check(t, h, "X-Set", "set-by-route")
		if got := h.Values("X-List"); !slices.Equal(got, []string{"client", "added"}) {
			t.Errorf("edit %d: X-List %q, want [client added]", i, got)
		}
		if v, ok := h["X-Remove"]; ok {
			t.Errorf("edit %d: X-Remove %q not removed", i, v)
		}

		c.Send("GET /plain HTTP/1.1\nHost: x\nX-List: client\nX-Remove: kept\n\n")
		if res, _ := c.ReadResponse("GET"); res.StatusCode != 200 {
			t.Fatalf("plain %d: %d", i, res.StatusCode)
		}
		h = plain.Last().Header
		if v, ok := h["X-Set"]; ok {
			t.Errorf("plain %d: X-Set %q leaked from the other route", i, v)
		}
		check(t, h, "X-List", "client")
		check(t, h, "X-Remove", "kept")
	}
}

func TestForwardingOptions(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
forwarding: {request_id_header: X-Trace-Id, pass_proxy_authorization: true}
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	res, _ := g.Get("/", "X-Trace-Id", "trace-7", "Proxy-Authorization", "Basic dTpw", "X-Request-Id", "not-mine")
	if got := res.Header.Get("X-Trace-Id"); got != "trace-7" {
		t.Errorf("response X-Trace-Id %q", got)
	}
	h := b.Last().Header
	check(t, h, "X-Trace-Id", "trace-7")
	check(t, h, "Proxy-Authorization", "Basic dTpw")
	check(t, h, "X-Request-Id", "not-mine") // an ordinary header under this config
}
