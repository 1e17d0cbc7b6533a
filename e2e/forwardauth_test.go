package e2e

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestForwardAuthWired: a forward authenticator from the config through
// the real server: the auth service hears the method, target and client
// address from Gatehouse (a client's X-Forwarded-* are not passed on), a
// 2xx admits with the copied headers upstream, a 302 and a 401 reach the
// client as the service sent them (the backend never asked), a failing
// service is a 503, and admissions are remembered per session cookie.
func TestForwardAuthWired(t *testing.T) {
	var asked atomic.Int64
	var mu sync.Mutex
	var last http.Header
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		mu.Lock()
		last = r.Header.Clone()
		last.Set(":method", r.Method)
		mu.Unlock()
		switch c, _ := r.Cookie("session"); {
		case c != nil && c.Value == "good":
			w.Header().Set("X-Auth-User", "alice")
			w.Header().Set("X-Auth-Groups", "staff admins")
			w.WriteHeader(http.StatusOK)
		case c != nil && c.Value == "boom":
			http.Error(w, "stack trace: secret internals", http.StatusInternalServerError)
		case r.Header.Get("Authorization") != "":
			w.Header().Set("WWW-Authenticate", `Bearer realm="sso", error="invalid_token"`)
			http.Error(w, "token rejected", http.StatusUnauthorized)
		default:
			w.Header().Set("Location", "https://sso.example.com/login?rd="+r.Header.Get("X-Forwarded-Uri"))
			w.Header().Add("Set-Cookie", "state=xyz; HttpOnly")
			w.WriteHeader(http.StatusFound)
			w.Write([]byte("please log in\n"))
		}
	}))
	defer svc.Close()
	var hits atomic.Int64
	var seen atomic.Pointer[http.Header]
	be := testkit.NewBackend(t, "api", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h := r.Header.Clone()
		seen.Store(&h)
		w.Write([]byte("ok"))
	}))
	g := testkit.Start(t, `
trusted_proxies: []
authenticators:
  sso:
    forward:
      url: ${AUTH}/verify
      user_header: X-Auth-User
      copy_headers: [X-Auth-User, X-Auth-Groups]
      cache: {ttl: 1m, key: [Cookie]}
routes:
  - upstream: ${API}
    auth: {use: [sso], method_header: X-Auth-Method}
`, testkit.Vars{"API": be.URL, "AUTH": svc.URL})

	spoof := []string{"X-Forwarded-For", "6.6.6.6", "X-Forwarded-Uri", "/admin", "X-Forwarded-Method", "GET", "X-Auth-Groups", "root"}

	t.Run("redirect to login passes through", func(t *testing.T) {
		before := hits.Load()
		res, body := g.Do(g.NewRequest("DELETE", "/orders/7?x=1", nil, spoof...))
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "https://sso.example.com/login?rd=/orders/7?x=1" ||
			res.Header.Get("Set-Cookie") != "state=xyz; HttpOnly" || body != "please log in\n" {
			t.Errorf("%d, Location %q, Set-Cookie %q, body %q; want the service's 302 as sent", res.StatusCode, res.Header.Get("Location"), res.Header.Get("Set-Cookie"), body)
		}
		if hits.Load() != before {
			t.Error("a denied request reached the backend")
		}
		mu.Lock()
		defer mu.Unlock()
		if last.Get(":method") != "DELETE" || last.Get("X-Forwarded-Method") != "DELETE" || last.Get("X-Forwarded-Uri") != "/orders/7?x=1" ||
			last.Get("X-Forwarded-For") != "127.0.0.1" || last.Get("X-Forwarded-Proto") != "http" || last.Get("X-Forwarded-Host") != g.Addr || last.Get("X-Request-Id") == "" {
			t.Errorf("the auth service heard %v; want Gatehouse's own X-Forwarded-* for DELETE /orders/7?x=1 from 127.0.0.1", last)
		}
	})

	t.Run("401 passes through with its challenge", func(t *testing.T) {
		res, body := g.Do(g.NewRequest("GET", "/", nil, "Authorization", "Bearer nope"))
		if res.StatusCode != 401 || res.Header.Get("Www-Authenticate") != `Bearer realm="sso", error="invalid_token"` || !strings.Contains(body, "token rejected") {
			t.Errorf("%d, WWW-Authenticate %q, body %q", res.StatusCode, res.Header.Get("Www-Authenticate"), body)
		}
	})

	t.Run("admitted with the copied headers, remembered per session", func(t *testing.T) {
		before := asked.Load()
		for range 3 {
			res, _ := g.Do(g.NewRequest("GET", "/", nil, append([]string{"Cookie", "session=good"}, spoof...)...))
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
		}
		h := *seen.Load()
		if h.Get("X-Auth-User") != "alice" || h.Get("X-Auth-Groups") != "staff admins" || h.Get("X-Auth-Method") != "forward" {
			t.Errorf("the backend saw user %q, groups %q, method %q", h.Get("X-Auth-User"), h.Get("X-Auth-Groups"), h.Get("X-Auth-Method"))
		}
		if n := asked.Load() - before; n != 1 {
			t.Errorf("the auth service was asked %d times for one session, want 1 (cached)", n)
		}
	})

	t.Run("a failing service is a 503 without its page", func(t *testing.T) {
		res, body := g.Do(g.NewRequest("GET", "/", nil, "Cookie", "session=boom"))
		if res.StatusCode != 503 || strings.Contains(body, "internals") {
			t.Errorf("%d %q; want 503 without the service's page", res.StatusCode, body)
		}
	})

	t.Run("a service that is down is a 503", func(t *testing.T) {
		svc.Close()
		res, _ := g.Do(g.NewRequest("GET", "/", nil, "Cookie", "session=other"))
		if res.StatusCode != 503 {
			t.Errorf("%d, want 503", res.StatusCode)
		}
	})
}
