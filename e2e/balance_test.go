package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestRoundRobinWeights: smooth weighted round robin is exact over whole
// periods, so 400 requests at weights 3:1 split exactly 300:100, and no
// window of four consecutive requests holds two for the light target.
func TestRoundRobinWeights(t *testing.T) {
	t.Parallel()
	_, vars := newBackends(t, "heavy", "light")
	g := testkit.Start(t, `
upstreams:
  pool:
    balance: round_robin
    targets:
      - {url: "${HEAVY}", weight: 3}
      - {url: "${LIGHT}", weight: 1}
routes:
  - {match: {path: /}, upstream: pool}
`, vars)

	counts := map[string]int{}
	var order []string
	for range 400 {
		res, body := g.Get("/")
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		counts[body]++
		order = append(order, body)
	}
	if counts["heavy"] != 300 || counts["light"] != 100 {
		t.Errorf("split %v, want heavy 300, light 100", counts)
	}
	for i := 0; i+4 <= len(order); i += 4 {
		if n := strings.Count(strings.Join(order[i:i+4], ","), "light"); n != 1 {
			t.Fatalf("requests %d-%d went %v: not smooth", i, i+3, order[i:i+4])
		}
	}
}

// TestLeastConn holds one slow request on whichever target gets it and
// checks that every new request goes to the other one meanwhile.
func TestLeastConn(t *testing.T) {
	t.Parallel()
	gate := testkit.NewGate()
	held, echo := gate.Wrap(nil), testkit.Echo()
	slowOrFast := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			held.ServeHTTP(w, r)
			return
		}
		echo.ServeHTTP(w, r)
	})
	a := testkit.NewBackend(t, "a", slowOrFast)
	b := testkit.NewBackend(t, "b", slowOrFast)
	g := testkit.Start(t, `
upstreams:
  pool:
    balance: least_conn
    targets: ["${A}", "${B}"]
routes:
  - {match: {path: /}, upstream: pool}
`, testkit.Vars{"A": a.URL, "B": b.URL})

	slow := make(chan string)
	go func() {
		res, err := g.Client().Get(g.URL + "/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		res.Body.Close()
		slow <- fmt.Sprint(res.StatusCode)
	}()
	gate.WaitArrived(t, 5*time.Second)
	busy, idle := a, b
	if b.Hits() == 1 {
		busy, idle = b, a
	}
	for i := range 10 {
		_, body := g.Get("/fast")
		if body != idle.Name {
			t.Fatalf("request %d went to %s while %s holds a slow request", i, body, busy.Name)
		}
	}
	gate.Release()
	if got := <-slow; got != "200" {
		t.Fatalf("slow request: %s", got)
	}
	// With nothing in flight, both get traffic again.
	seen := map[string]bool{}
	for range 4 {
		_, body := g.Get("/fast")
		seen[body] = true
	}
	if len(seen) != 2 {
		t.Errorf("after the slow request ended, traffic went only to %v", seen)
	}
}

func TestHashOnHeader(t *testing.T) {
	t.Parallel()
	_, vars := newBackends(t, "a", "b", "c")
	g := testkit.Start(t, `
upstreams:
  pool:
    balance: hash
    hash_key: header:X-User
    targets: ["${A}", "${B}", "${C}"]
routes:
  - {match: {path: /}, upstream: pool}
`, vars)

	used := map[string]bool{}
	for u := range 30 {
		user := fmt.Sprintf("user-%d", u)
		var first string
		for i := range 5 {
			_, body := g.Get("/", "X-User", user)
			if i == 0 {
				first = body
			} else if body != first {
				t.Fatalf("%s went to %s, then to %s", user, first, body)
			}
		}
		used[first] = true
	}
	if len(used) != 3 {
		t.Errorf("30 keys reached only %v of 3 targets", used)
	}
}

func TestSticky(t *testing.T) {
	t.Parallel()
	_, vars := newBackends(t, "a", "b")
	g := testkit.Start(t, `
upstreams:
  pool:
    balance: sticky
    sticky: {cookie: session_target, max_age: 1h}
    targets: ["${A}", "${B}"]
routes:
  - {match: {path: /}, upstream: pool}
`, vars)

	res, first := g.Get("/")
	cookies := res.Cookies()
	if len(cookies) != 1 || cookies[0].Name != "session_target" {
		t.Fatalf("Set-Cookie %q, want one session_target cookie", res.Header.Values("Set-Cookie"))
	}
	ck := cookies[0]
	if ck.MaxAge != 3600 || !ck.HttpOnly || ck.Path != "/" || strings.Contains(ck.Value, "127.0.0.1") {
		t.Errorf("cookie %+v: want Max-Age 3600, HttpOnly, Path /, an opaque value", ck)
	}
	for i := range 10 {
		res, body := g.Get("/", "Cookie", "session_target="+ck.Value)
		if body != first {
			t.Fatalf("request %d with the cookie went to %s, want %s", i, body, first)
		}
		if sc := res.Header.Values("Set-Cookie"); len(sc) != 0 {
			t.Errorf("request %d: cookie set again: %q", i, sc)
		}
	}
	// Without the cookie, requests are balanced and each gets a cookie
	// naming the target that answered.
	byTarget := map[string]string{}
	for range 4 {
		res, body := g.Get("/")
		c := res.Cookies()
		if len(c) != 1 {
			t.Fatalf("no cookie without a cookie: %q", res.Header.Values("Set-Cookie"))
		}
		if prev, ok := byTarget[body]; ok && prev != c[0].Value {
			t.Errorf("target %s got cookies %q and %q", body, prev, c[0].Value)
		}
		byTarget[body] = c[0].Value
	}
	if len(byTarget) != 2 {
		t.Errorf("without a cookie traffic reached %v, want both targets", byTarget)
	}
	// A stale cookie (unknown ID) is ignored and replaced.
	res, _ = g.Get("/", "Cookie", "session_target=0123456789abcdef")
	if len(res.Cookies()) != 1 {
		t.Errorf("unknown sticky ID: Set-Cookie %q, want a new cookie", res.Header.Values("Set-Cookie"))
	}
}

// TestStickyFailover: when the target a cookie names is down, the request
// goes to another target, which answers with a cookie naming itself.
func TestStickyFailover(t *testing.T) {
	t.Parallel()
	bs, vars := newBackends(t, "a", "b")
	g := testkit.Start(t, `
upstreams:
  pool:
    balance: sticky
    targets: ["${A}", "${B}"]
routes:
  - {match: {path: /}, upstream: pool}
`, vars)

	res, first := g.Get("/")
	cookie := res.Cookies()[0]
	bs[first].Kill()
	res, body := g.Get("/", "Cookie", cookie.String())
	if res.StatusCode != 200 || body == first {
		t.Fatalf("with %s dead: %d %q", first, res.StatusCode, body)
	}
	moved := res.Cookies()
	if len(moved) != 1 || moved[0].Name != "gh_sticky" || moved[0].Value == cookie.Value {
		t.Fatalf("Set-Cookie %q after failover, want a gh_sticky cookie for %s", res.Header.Values("Set-Cookie"), body)
	}
	for range 5 {
		if _, got := g.Get("/", "Cookie", moved[0].String()); got != body {
			t.Fatalf("new cookie led to %s, want %s", got, body)
		}
	}
}
