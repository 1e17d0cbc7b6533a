package cache_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// startBackend is start with the backend returned, to kill it.
func startBackend(t *testing.T, o *origin) (*testkit.Gatehouse, *testkit.Backend) {
	t.Helper()
	be := testkit.NewBackend(t, "origin", o)
	g := testkit.Start(t, `
caches:
  main: {memory: {}}
upstreams:
  origin:
    targets: ["${ORIGIN}"]
    retry: {attempts: 1}
    health: {passive: {max_fails: 0}}
routes:
  - upstream: origin
    cache: {store: main}
`, testkit.Vars{"ORIGIN": be.URL})
	return g, be
}

func TestStaleIfErrorOnConnectionFailure(t *testing.T) {
	o := &origin{h: fixed(200, "kept", "Cache-Control", "max-age=0, stale-if-error=300", "ETag", `"k"`)}
	g, be := startBackend(t, o)
	g.Get("/k")
	be.Kill()
	res, body := g.Get("/k")
	if res.StatusCode != 200 || body != "kept" {
		t.Errorf("origin down: %d %q, want the stale copy (RFC 5861 4)", res.StatusCode, body)
	}
	wantStatus(t, res, "fwd=stale", "stale-if-error")
}

func TestMustRevalidateUnreachableIs504(t *testing.T) {
	o := &origin{h: fixed(200, "strict", "Cache-Control", "max-age=0, must-revalidate", "ETag", `"s"`)}
	g, be := startBackend(t, o)
	g.Get("/s")
	be.Kill()
	res, body := g.Get("/s", "Cache-Control", "max-stale=600")
	if res.StatusCode != 504 || strings.Contains(body, "strict") {
		t.Errorf("must-revalidate, origin down: %d %q, want 504 (RFC 9111 5.2.2.2)", res.StatusCode, body)
	}
	if !strings.Contains(g.Logs.String(), "must-revalidate") {
		t.Errorf("the log does not say why the 504")
	}
}

func TestRevalidatedEntryIsFreshAgain(t *testing.T) {
	o := &origin{}
	o.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v"`)
		if r.Header.Get("If-None-Match") == `"v"` {
			w.Header().Set("Cache-Control", "max-age=60")
			w.Header().Set("X-Version", "2")
			w.WriteHeader(304)
			return
		}
		w.Header().Set("Cache-Control", "max-age=0")
		w.Header().Set("X-Version", "1")
		fmt.Fprint(w, "body")
	})
	g, _ := startBackend(t, o)
	g.Get("/f")
	g.Get("/f") // revalidated: 304 with max-age=60
	res, body := g.Get("/f")
	if body != "body" || res.Header.Get("X-Version") != "2" {
		t.Errorf("after revalidation: %q, X-Version %q; want the freshened header", body, res.Header.Get("X-Version"))
	}
	wantStatus(t, res, "hit")
	if n := o.n.Load(); n != 2 {
		t.Errorf("origin saw %d requests, want 2 (the 304 made the entry fresh for 60s)", n)
	}
}

func TestReloadKeepsTheCache(t *testing.T) {
	o := &origin{h: fixed(200, "x", "Cache-Control", "max-age=60")}
	be := testkit.NewBackend(t, "origin", o)
	yaml := `
caches:
  main: {memory: {max_bytes: 32MiB}}
routes:
  - upstream: ${ORIGIN}
    cache: {store: main}
`
	g := testkit.Start(t, yaml, testkit.Vars{"ORIGIN": be.URL})
	g.Get("/r")
	if err := g.Apply(yaml + "    response_headers: {set: {X-Reloaded: yes}}\n"); err != nil {
		t.Fatal(err)
	}
	res, _ := g.Get("/r")
	wantStatus(t, res, "hit")
	if o.n.Load() != 1 {
		t.Errorf("a reload emptied the cache")
	}
	// A changed store is a new, empty one.
	if err := g.Apply(strings.Replace(yaml, "32MiB", "16MiB", 1)); err != nil {
		t.Fatal(err)
	}
	res, _ = g.Get("/r")
	wantStatus(t, res, "miss")
}
