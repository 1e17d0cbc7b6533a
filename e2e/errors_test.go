package e2e

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestUpstreamErrors: each failure gets its status from the funnel, and one
// warn line naming the route, upstream, target and cause.
func TestUpstreamErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		target  func(t *testing.T) string
		extra   string // more upstream settings
		status  int
		message string // the funnel's text body
		cause   string // in the logged error
	}{
		{
			name:    "connection refused",
			target:  func(t *testing.T) string { return testkit.DeadURL(t) },
			status:  http.StatusBadGateway,
			message: "502 bad gateway: the upstream could not be reached or sent a broken response\n",
			cause:   "connection refused",
		},
		{
			name:    "broken response",
			target:  func(t *testing.T) string { return testkit.NewBackend(t, "garbage", testkit.Garbage()).URL },
			status:  http.StatusBadGateway,
			message: "502 bad gateway: the upstream could not be reached or sent a broken response\n",
			cause:   "malformed HTTP",
		},
		{
			name:    "closed without answer",
			target:  func(t *testing.T) string { return testkit.NewBackend(t, "breaker", testkit.HijackClose(false)).URL },
			status:  http.StatusBadGateway,
			message: "502 bad gateway: the upstream could not be reached or sent a broken response\n",
			cause:   "EOF",
		},
		{
			name: "response header timeout",
			target: func(t *testing.T) string {
				gate := testkit.NewGate() // never released: the request waits until cancelled
				return testkit.NewBackend(t, "slow", gate.Wrap(nil)).URL
			},
			extra:   "response_header_timeout: 200ms",
			status:  http.StatusGatewayTimeout,
			message: "504 gateway timeout: the upstream did not answer in time\n",
			cause:   "timeout awaiting response headers",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			target := tc.target(t)
			g := testkit.Start(t, `
upstreams:
  pool:
    targets: ["${T}"]
    `+tc.extra+`
routes:
  - {name: failing, match: {path: /}, upstream: pool}
`, testkit.Vars{"T": target})

			start := time.Now()
			res, body := g.Get("/x?y=1")
			if res.StatusCode != tc.status || body != tc.message {
				t.Fatalf("got %d %q, want %d %q", res.StatusCode, body, tc.status, tc.message)
			}
			if tc.status == http.StatusGatewayTimeout && time.Since(start) > 3*time.Second {
				t.Errorf("504 took %s with a 200ms response_header_timeout", time.Since(start))
			}
			if res.Header.Get("X-Request-Id") == "" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("error response header %v", res.Header)
			}
			e := g.Logs.Wait(t, time.Second, "request failed", "status", tc.status)
			want := map[string]string{"level": "WARN", "route": "failing", "upstream": "pool", "target": target,
				"method": "GET", "path": "/x", "request_id": res.Header.Get("X-Request-Id")}
			for k, v := range want {
				if e.Str(k) != v {
					t.Errorf("log %s = %q, want %q", k, e.Str(k), v)
				}
			}
			if !strings.Contains(e.Str("error"), tc.cause) {
				t.Errorf("log error %q does not name the cause %q", e.Str("error"), tc.cause)
			}
			g.Access.Wait(t, time.Second, "request", "status", tc.status, "target", target)
		})
	}
}

// TestBackendDiesMidBody: when the backend dies after the response has
// started, the client must see an error, never a clean short response.
func TestBackendDiesMidBody(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		chunked bool
	}{{"content-length", false}, {"chunked", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := testkit.NewBackend(t, "dies", testkit.DieMidBody(100000, 40000, tc.chunked))
			g := testkit.Start(t, `
routes:
  - {name: r, match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

			res, err := g.Client().Get(g.URL + "/big")
			if err != nil {
				t.Fatalf("the response header should have arrived: %v", err)
			}
			defer res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			n, err := io.Copy(io.Discard, res.Body)
			if err == nil {
				t.Fatalf("read %d bytes and a clean end of body; want an error", n)
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "connection reset") {
				t.Logf("body error: %v", err) // any error will do; these are the usual ones
			}
			if n > 40000 {
				t.Errorf("read %d bytes, the backend sent 40000", n)
			}
			e := g.Logs.Wait(t, time.Second, "request failed", "route", "r")
			if e.Str("level") != "WARN" || e.Str("target") != b.URL {
				t.Errorf("log %v", e)
			}
		})
	}
}
