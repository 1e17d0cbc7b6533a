package ratelimit_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// counter is a backend counting the requests it answers.
type counter struct{ n atomic.Int64 }

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.n.Add(1)
	fmt.Fprint(w, "ok")
}

// start runs Gatehouse with one route whose rate_limit list is limits
// (YAML flow items), in front of a counting backend. 127.0.0.1 is a
// trusted proxy, so X-Forwarded-For sets the client address.
func start(t *testing.T, limits string, extra ...string) (*testkit.Gatehouse, *counter) {
	t.Helper()
	c := &counter{}
	be := testkit.NewBackend(t, "api", c)
	g := testkit.Start(t, `
trusted_proxies: [127.0.0.1]
`+strings.Join(extra, "\n")+`
routes:
  - upstream: ${API}
    rate_limit: [`+limits+`]
`, testkit.Vars{"API": be.URL})
	return g, c
}

func TestLimitRefuses(t *testing.T) {
	g, c := start(t, "{rate: 2/h}")
	for i, want := range []string{`"limit";r=1;t=1800`, `"limit";r=0;t=3600`} {
		res, _ := g.Get("/")
		if res.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d", i, res.StatusCode)
		}
		if got := res.Header.Get("RateLimit-Policy"); got != `"limit";q=2;w=3600` {
			t.Errorf("request %d: RateLimit-Policy %q", i, got)
		}
		if got := res.Header.Get("RateLimit"); got != want {
			t.Errorf("request %d: RateLimit %q, want %q", i, got, want)
		}
	}
	res, body := g.Get("/")
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "too many requests") {
		t.Fatalf("third request: %d %q, want 429", res.StatusCode, body)
	}
	if ra := res.Header.Get("Retry-After"); ra != "1800" {
		t.Errorf("Retry-After %q, want 1800 (one unit back every 30 minutes)", ra)
	}
	if got := res.Header.Get("RateLimit"); got != `"limit";r=0;t=1800` {
		t.Errorf("RateLimit on the 429 %q: t must be the Retry-After moment", got)
	}
	if res.Header.Get("RateLimit-Policy") == "" {
		t.Error("the 429 has no RateLimit-Policy")
	}
	if n := c.n.Load(); n != 2 {
		t.Errorf("the backend saw %d requests, want 2 (the refused one never reaches it)", n)
	}
}

func TestKeys(t *testing.T) {
	t.Run("client_ip groups an IPv6 /64", func(t *testing.T) {
		g, _ := start(t, "{rate: 1/h}")
		for _, tc := range []struct {
			ip   string
			want int
		}{
			{"2001:db8::1", 200}, {"2001:db8::2", 429}, {"2001:db8:0:1::1", 200},
			{"192.0.2.1", 200}, {"192.0.2.2", 200}, {"192.0.2.1", 429},
		} {
			if res, _ := g.Get("/", "X-Forwarded-For", tc.ip); res.StatusCode != tc.want {
				t.Errorf("client %s: status %d, want %d", tc.ip, res.StatusCode, tc.want)
			}
		}
	})
	t.Run("ipv4_prefix", func(t *testing.T) {
		g, _ := start(t, "{rate: 1/h, ipv4_prefix: 24}")
		g.Get("/", "X-Forwarded-For", "192.0.2.1")
		if res, _ := g.Get("/", "X-Forwarded-For", "192.0.2.200"); res.StatusCode != 429 {
			t.Errorf("another address of the /24: %d, want 429", res.StatusCode)
		}
	})
	t.Run("header, missing shared", func(t *testing.T) {
		g, c := start(t, "{rate: 1/h, key: 'header:X-API-Key'}")
		for _, tc := range []struct {
			key  string
			want int
		}{{"a", 200}, {"b", 200}, {"a", 429}, {"", 200}, {"", 429}} {
			var h []string
			if tc.key != "" {
				h = []string{"X-API-Key", tc.key}
			}
			if res, _ := g.Get("/", h...); res.StatusCode != tc.want {
				t.Errorf("X-API-Key %q: status %d, want %d", tc.key, res.StatusCode, tc.want)
			}
		}
		if n := c.n.Load(); n != 3 {
			t.Errorf("backend saw %d, want 3", n)
		}
	})
	t.Run("missing refused", func(t *testing.T) {
		g, c := start(t, "{rate: 5/h, key: 'cookie:session', missing: refuse}")
		if res, _ := g.Get("/"); res.StatusCode != http.StatusBadRequest || res.Header.Get("RateLimit-Policy") == "" {
			t.Errorf("no cookie: %d (RateLimit-Policy %q), want 400 with the policy", res.StatusCode, res.Header.Get("RateLimit-Policy"))
		}
		if res, _ := g.Get("/", "Cookie", "session=abc"); res.StatusCode != 200 {
			t.Errorf("with the cookie: %d", res.StatusCode)
		}
		if n := c.n.Load(); n != 1 {
			t.Errorf("backend saw %d, want 1", n)
		}
	})
	t.Run("combined", func(t *testing.T) {
		g, _ := start(t, "{rate: 1/h, key: 'client_ip+query:tenant'}")
		for _, tc := range []struct {
			ip, q string
			want  int
		}{{"192.0.2.1", "a", 200}, {"192.0.2.1", "b", 200}, {"192.0.2.2", "a", 200}, {"192.0.2.1", "a", 429}} {
			if res, _ := g.Get("/?tenant="+tc.q, "X-Forwarded-For", tc.ip); res.StatusCode != tc.want {
				t.Errorf("%s tenant %s: %d, want %d", tc.ip, tc.q, res.StatusCode, tc.want)
			}
		}
	})
}

// Several limits all apply; each is its own policy in the headers, and
// headers: false leaves one out.
func TestSeveralLimits(t *testing.T) {
	g, _ := start(t, "{rate: 10/s, burst: 3, name: burst}, {rate: 100/h, name: hourly}, {rate: 50/h, name: quiet, headers: false}")
	res, _ := g.Get("/")
	if got, want := res.Header.Get("RateLimit-Policy"), `"burst";q=3;w=1, "hourly";q=100;w=3600`; got != want {
		t.Errorf("RateLimit-Policy %q, want %q", got, want)
	}
	if got, want := res.Header.Get("RateLimit"), `"burst";r=2;t=1, "hourly";r=99;t=36`; got != want {
		t.Errorf("RateLimit %q, want %q", got, want)
	}
	g.Get("/")
	g.Get("/")
	res, _ = g.Get("/")
	if res.StatusCode != 429 {
		t.Fatalf("4th request at once: %d, want 429 from the burst limit", res.StatusCode)
	}
	if got := res.Header.Get("RateLimit"); !strings.HasPrefix(got, `"burst";r=0;t=1`) || strings.Contains(got, "quiet") {
		t.Errorf("RateLimit on the refusal %q", got)
	}
}

// Every response of a limited route has the headers: an upstream error
// (502 from the funnel) too.
func TestHeadersOnErrors(t *testing.T) {
	g := testkit.Start(t, `
routes:
  - upstream: http://127.0.0.1:1
    rate_limit: [{rate: 5/m}]
`, nil)
	res, _ := g.Get("/")
	if res.StatusCode != http.StatusBadGateway || res.Header.Get("RateLimit") != `"limit";r=4;t=12` {
		t.Errorf("status %d, RateLimit %q; want a 502 carrying the limit", res.StatusCode, res.Header.Get("RateLimit"))
	}
}

// A reload keeps every client's allowance.
func TestReloadKeepsState(t *testing.T) {
	c := &counter{}
	be := testkit.NewBackend(t, "api", c)
	cfg := func(path string) string {
		return `
routes:
  - match: {path: ` + path + `}
    name: api
    upstream: ` + be.URL + `
    rate_limit: [{rate: 1/h}]
`
	}
	g := testkit.Start(t, cfg("/"), nil)
	g.Get("/")
	if err := g.Apply(cfg("/x")); err != nil {
		t.Fatal(err)
	}
	if res, _ := g.Get("/x"); res.StatusCode != 429 {
		t.Errorf("after a reload: %d, want 429 (the allowance survived)", res.StatusCode)
	}
}

// A request retried on another target counts once.
func TestRetryCountsOnce(t *testing.T) {
	c := &counter{}
	be := testkit.NewBackend(t, "api", c)
	g := testkit.Start(t, `
upstreams:
  pool:
    targets: ["http://127.0.0.1:1", "${API}"]
    retry: {attempts: 2}
    health: {passive: {max_fails: 0}}
routes:
  - upstream: pool
    rate_limit: [{rate: 2/h}]
`, testkit.Vars{"API": be.URL})
	for i, want := range []int{200, 200, 429} {
		res, _ := g.Get("/")
		if res.StatusCode != want {
			t.Errorf("request %d: %d, want %d", i, res.StatusCode, want)
		}
	}
	if n := c.n.Load(); n != 2 {
		t.Errorf("the backend answered %d, want 2", n)
	}
}

// An identity key counts each authenticated caller on its own.
func TestIdentityKey(t *testing.T) {
	c := &counter{}
	be := testkit.NewBackend(t, "api", c)
	g := testkit.Start(t, `
authenticators:
  keys:
    api_key:
      keys:
        - {sha256: 8254c329a92850f6d539dd376f4816ee2764517da5e0235514af433164480d7a, identity: alice}
        - {sha256: 4c94485e0c21ae6c41ce1dfe7b6bfaceea5ab68e40a2476f50208e526f506080, identity: bob}
routes:
  - upstream: ${API}
    auth: {use: [keys]}
    rate_limit: [{rate: 1/h, key: identity}]
`, testkit.Vars{"API": be.URL})
	for i, tc := range []struct {
		key  string
		want int
	}{{"k", 200}, {"k", 429}, {"v", 200}, {"", 401}} {
		var h []string
		if tc.key != "" {
			h = []string{"X-API-Key", tc.key}
		}
		if res, _ := g.Get("/", h...); res.StatusCode != tc.want {
			t.Errorf("request %d (key %q): %d, want %d", i, tc.key, res.StatusCode, tc.want)
		}
	}
}
