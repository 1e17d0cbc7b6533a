package cache_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestIdentityIsLikeAuthorization: a route whose auth takes credentials
// from somewhere other than Authorization (here an API key header) has
// its answers stored like answers to requests with Authorization (RFC
// 9111 3.5): only when the origin says they are for everyone. Otherwise
// one caller's answer would be served to the next.
func TestIdentityIsLikeAuthorization(t *testing.T) {
	be := testkit.NewBackend(t, "origin", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/public" {
			w.Header().Set("Cache-Control", "public, max-age=60")
		} else {
			w.Header().Set("Cache-Control", "max-age=60")
		}
		w.Write([]byte("for " + r.Header.Get("X-Auth-User")))
	}))
	g := testkit.Start(t, `
caches:
  main: {memory: {}}
authenticators:
  keys:
    api_key:
      keys:
        - {sha256: ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb, identity: alice}  # "a"
        - {sha256: 3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d, identity: bob}    # "b"
routes:
  - upstream: ${ORIGIN}
    auth: {use: [keys]}
    cache: {store: main}
`, testkit.Vars{"ORIGIN": be.URL})
	if _, body := g.Get("/mine", "X-API-Key", "a"); body != "for alice" {
		t.Fatalf("alice: %q", body)
	}
	res, body := g.Get("/mine", "X-API-Key", "b")
	if body != "for bob" || strings.Contains(res.Header.Get("Cache-Status"), "hit") {
		t.Errorf("bob got %q (Cache-Status %q): alice's answer was stored for everyone", body, res.Header.Get("Cache-Status"))
	}
	g.Get("/public", "X-API-Key", "a")
	if res, body := g.Get("/public", "X-API-Key", "b"); body != "for alice" || !strings.Contains(res.Header.Get("Cache-Status"), "hit") {
		t.Errorf("a public answer: %q (Cache-Status %q), want the stored one", body, res.Header.Get("Cache-Status"))
	}
}
