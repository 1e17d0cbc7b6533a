package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// retryPool is a config with one upstream whose targets are FIRST and
// SECOND, in that order: a fresh round robin pool tries FIRST first, so
// the first request of a test always meets the misbehaving target.
func retryPool(attempts int) string {
	return `
upstreams:
  pool:
    targets: ["${FIRST}", "${SECOND}"]
    retry: {attempts: ` + strconv.Itoa(attempts) + `}
    health: {passive: {max_fails: 0}}
routes:
  - {name: r, match: {path: /}, upstream: pool}
`
}

// TestRetries: a try is repeated on the other target only when that is
// safe: nothing was sent (connection refused), or the request is
// idempotent and has no body to replay. The POST bodies are 100 KB, more
// than one buffer, so a retried one shows it was not consumed by the
// failed try.
func TestRetries(t *testing.T) {
	t.Parallel()
	payload := strings.Repeat("0123456789", 10000)
	cases := []struct {
		name     string
		first    func(t *testing.T) (string, *testkit.Backend) // URL of the first target, and the backend if any
		attempts int
		method   string
		body     string
		header   []string
		want     int  // status
		reached  bool // whether the second target must get the request
	}{
		{name: "GET, connection refused, retried", first: deadTarget, attempts: 3,
			method: "GET", want: 200, reached: true},
		{name: "POST with body, connection refused, retried", first: deadTarget, attempts: 3,
			method: "POST", body: payload, want: 200, reached: true},
		{name: "attempts 1 disables retries", first: deadTarget, attempts: 1,
			method: "GET", want: 502},
		{name: "POST with body, received then connection broken, not retried", first: breaker(true), attempts: 3,
			method: "POST", body: payload, want: 502},
		{name: "PUT without body, accepted then died, retried", first: breaker(false), attempts: 3,
			method: "PUT", want: 200, reached: true},
		{name: "POST with Idempotency-Key, no body, retried", first: breaker(false), attempts: 3,
			method: "POST", header: []string{"Idempotency-Key", "k-1"}, want: 200, reached: true},
		{name: "POST without body or key, not retried", first: breaker(false), attempts: 3,
			method: "POST", want: 502},
		{name: "GET, broken response, retried", first: garbage, attempts: 3,
			method: "GET", want: 200, reached: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			second := testkit.NewBackend(t, "second", nil)
			firstURL, first := tc.first(t)
			g := testkit.Start(t, retryPool(tc.attempts), testkit.Vars{"FIRST": firstURL, "SECOND": second.URL})
			req := g.NewRequest(tc.method, "/thing", nil, tc.header...)
			if tc.body != "" {
				req = g.NewRequest(tc.method, "/thing", strings.NewReader(tc.body), tc.header...)
			}
			res, got := g.Do(req)
			if res.StatusCode != tc.want {
				t.Fatalf("status %d %q, want %d", res.StatusCode, got, tc.want)
			}
			switch {
			case tc.reached && second.Hits() != 1:
				t.Fatalf("second target got %d requests, want 1", second.Hits())
			case tc.reached:
				if last := second.Last(); string(last.Body) != tc.body || last.Method != tc.method {
					t.Errorf("second target got %s with %d body bytes, want %s with %d", last.Method, len(last.Body), tc.method, len(tc.body))
				}
			case second.Hits() != 0:
				t.Errorf("second target got %d requests, want none", second.Hits())
			}
			if first != nil && first.Hits() != 1 {
				t.Errorf("first target got %d requests, want 1", first.Hits())
			}
			if first != nil && tc.body != "" && string(first.Last().Body) != tc.body {
				t.Errorf("first target read %d body bytes, want %d", len(first.Last().Body), len(tc.body))
			}
			if tc.want == 502 {
				e := g.Logs.Wait(t, time.Second, "request failed", "status", 502, "attempts", 1)
				if e.Str("route") != "r" || e.Str("upstream") != "pool" || e.Str("target") == "" || e.Str("error") == "" {
					t.Errorf("log entry %v", e)
				}
			}
		})
	}
}

func deadTarget(t *testing.T) (string, *testkit.Backend) { return testkit.DeadURL(t), nil }

// breaker is a target that accepts the request (reading its body if
// readBody) and then closes the connection without answering.
func breaker(readBody bool) func(t *testing.T) (string, *testkit.Backend) {
	return func(t *testing.T) (string, *testkit.Backend) {
		b := testkit.NewBackend(t, "breaker", testkit.HijackClose(readBody))
		return b.URL, b
	}
}

func garbage(t *testing.T) (string, *testkit.Backend) {
	b := testkit.NewBackend(t, "garbage", testkit.Garbage())
	return b.URL, b
}
