package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestRateLimitAroundAuth: a limit keyed by the client address runs
// before authentication, so guessing keys spends it (and the 401s carry
// its RateLimit fields); a limit keyed by the identity runs after it and
// counts only admitted requests.
func TestRateLimitAroundAuth(t *testing.T) {
	be := testkit.NewBackend(t, "api", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	g := testkit.Start(t, `
authenticators:
  keys:
    api_key:
      keys: [{sha256: ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb, identity: alice}]  # "a"
routes:
  - upstream: ${API}
    auth: {use: [keys]}
    rate_limit:
      - {name: per-client, key: client_ip, rate: 5/m}
      - {name: per-user, key: identity, rate: 2/m}
`, testkit.Vars{"API": be.URL})
	var got []int
	var fields []string
	for _, key := range []string{"x", "y", "a", "a", "a", "z"} {
		res, _ := g.Get("/", "X-API-Key", key)
		got = append(got, res.StatusCode)
		fields = append(fields, strings.Join(res.Header.Values("Ratelimit"), ", "))
		if res.StatusCode == 401 && !strings.Contains(res.Header.Get("Ratelimit-Policy"), `"per-client"`) {
			t.Errorf("a 401 without the client limit's RateLimit-Policy: %q", res.Header.Get("Ratelimit-Policy"))
		}
	}
	// Two bad keys spend the client's limit but not the user's: alice's
	// third request is refused by her own limit (2 a minute), with the
	// client limit at its 5th unit; the next bad key is past the client's.
	want := []int{401, 401, 200, 200, 429, 429}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses %v, want %v (RateLimit fields %q)", got, want, fields)
		}
	}
	if !strings.Contains(fields[4], `"per-user";r=0`) || !strings.Contains(fields[4], `"per-client";r=0`) {
		t.Errorf("alice's refusal says %q; want per-user empty (and per-client at its last unit)", fields[4])
	}
	if !strings.Contains(fields[5], `"per-client";r=0`) || strings.Contains(fields[5], "per-user") {
		t.Errorf("the last bad key's refusal says %q; want per-client only", fields[5])
	}
}
