package h2tmp

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/summerwind/h2spec/config"
	"github.com/summerwind/h2spec/generic"
	"github.com/summerwind/h2spec/hpack"
	h2spechttp2 "github.com/summerwind/h2spec/http2"
	"github.com/summerwind/h2spec/spec"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// h2specAccepted lists the h2spec test IDs that may fail, each with the
// reason it cannot be fixed in Gatehouse. Empty: Go's HTTP/2 server, with
// Gatehouse in front of the backend, passes the whole default suite. A
// listed test that passes fails TestH2Spec, so the list cannot go stale.
var h2specAccepted = map[string]string{}

// h2specMinCases guards against a suite that silently ran nothing: h2spec
// v2.2.1's default (non-strict) suite has 146 cases.
const h2specMinCases = 140

// TestH2Spec runs h2spec's conformance suite (generic, http2 and hpack
// sections: every case h2spec runs by default) against a TLS listener
// (HTTP/2 chosen by ALPN) and an h2c listener (prior knowledge), both
// proxying to a real backend, and expects every case to pass.
func TestH2Spec(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", http.HandlerFunc(h2specBackend))
	ca := testkit.NewCA(t, "h2spec CA")
	leaf := ca.Issue([]string{"127.0.0.1", "localhost"}, testkit.LeafOptions{})
	g := testkit.Start(t, `
listeners:
  - {address: "${LISTEN}", tls: {}}
  - {address: "127.0.0.3:0", h2c: true, redirect_https: false}
tls:
  certificates: [{cert: "${CERT}", key: "${KEY}"}]
routes: [{upstream: "${B}"}]
`, testkit.Vars{"B": b.URL, "CERT": leaf.CertFile, "KEY": leaf.KeyFile})

	for _, tc := range []struct {
		name string
		addr string
		tls  bool
	}{
		{"tls", g.Addr, true},
		{"h2c", g.AddrOf("127.0.0.3:0"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			results := runH2Spec(t, h2specConfig(t, tc.addr, tc.tls))
			checkH2Spec(t, results)
		})
	}
}

// h2specBackend answers every request with 200 and a short body after
// reading the request body, which h2spec's POST cases send.
func h2specBackend(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "text/plain")
	io.WriteString(w, "hello from the h2spec backend\n")
}

func h2specConfig(t *testing.T, addr string, useTLS bool) *config.Config {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return &config.Config{
		Host: host,
		Port: p,
		Path: "/",
		// h2spec's default is 2 s; the e2e tests run in parallel under
		// -race, so allow more before a missing frame counts as a failure.
		Timeout:      5 * time.Second,
		MaxHeaderLen: 4000,
		TLS:          useTLS,
		// The certificate is checked by the TLS tests; h2spec only has a
		// switch to skip verification, not a root to trust.
		Insecure: useTLS,
	}
}

// h2specResult is the outcome of one h2spec case. Err is nil if it passed.
type h2specResult struct {
	ID          string // as h2spec names it on its command line: "http2/6.5.3/2"
	Desc        string
	Requirement string
	Err         error
}

func (r h2specResult) skipped() bool { return errors.Is(r.Err, spec.ErrSkipped) }
func (r h2specResult) failed() bool  { return r.Err != nil && !r.skipped() }

// runH2Spec runs every non-strict case of h2spec's three server suites,
// one connection per case, as h2spec's own runner does. It drives the
// cases directly rather than through h2spec.Run, which prints to stdout
// and calls os.Exit when it cannot connect.
func runH2Spec(t *testing.T, c *config.Config) []h2specResult {
	t.Helper()
	var out []h2specResult
	for _, g := range []*spec.TestGroup{generic.Spec(), h2spechttp2.Spec(), hpack.Spec()} {
		out = walkH2Spec(c, g, out)
	}
	return out
}

// walkH2Spec runs g's own cases, then its subgroups', appending results.
// Strict groups and cases are left out, as h2spec does without -S. Case
// numbers count from 1 within a group, matching h2spec's IDs.
func walkH2Spec(c *config.Config, g *spec.TestGroup, out []h2specResult) []h2specResult {
	if g.Strict {
		return out
	}
	for i, tc := range g.Tests {
		out = append(out, h2specResult{
			ID:          fmt.Sprintf("%s/%d", g.ID(), i+1),
			Desc:        tc.Desc,
			Requirement: tc.Requirement,
			Err:         runH2SpecCase(c, tc),
		})
	}
	for _, sub := range g.Groups {
		out = walkH2Spec(c, sub, out)
	}
	return out
}

func runH2SpecCase(c *config.Config, tc *spec.TestCase) error {
	conn, err := spec.Dial(c)
	if err != nil {
		return fmt.Errorf("h2spec cannot connect to %s: %w", c.Addr(), err)
	}
	defer conn.Close()
	return tc.Run(c, conn)
}

// checkH2Spec fails t for every failed case that is not accepted, for
// every accepted case that passed, and if too few cases ran.
func checkH2Spec(t *testing.T, results []h2specResult) {
	t.Helper()
	var passed, failed, skipped int
	seen := map[string]bool{}
	for _, r := range results {
		seen[r.ID] = true
		why, accepted := h2specAccepted[r.ID]
		switch {
		case r.skipped():
			skipped++
		case r.failed() && accepted:
			failed++
			t.Logf("accepted failure %s %s: %s", r.ID, r.Desc, why)
		case r.failed():
			failed++
			t.Errorf("h2spec %s %s\n  requirement: %s\n  %s", r.ID, r.Desc, r.Requirement, describeH2SpecErr(r.Err))
		case accepted:
			passed++
			t.Errorf("h2spec %s now passes; remove it from h2specAccepted", r.ID)
		default:
			passed++
		}
	}
	for id := range h2specAccepted {
		if !seen[id] {
			t.Errorf("h2specAccepted lists %s, which h2spec did not run", id)
		}
	}
	t.Logf("h2spec: %d cases, %d passed, %d failed (%d accepted), %d skipped",
		len(results), passed, failed, len(h2specAccepted), skipped)
	if len(results) < h2specMinCases {
		t.Errorf("h2spec ran %d cases, want at least %d", len(results), h2specMinCases)
	}
}

// describeH2SpecErr spells out what h2spec expected and what it saw.
func describeH2SpecErr(err error) string {
	var te *spec.TestError
	if errors.As(err, &te) {
		return "expected: " + strings.Join(te.Expected, " or ") + "\n  actual:   " + te.Actual
	}
	return "error: " + err.Error()
}
