package e2e

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

func TestBodyLimits(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
limits: {max_body_bytes: 1KiB}
routes:
  - {name: default, match: {path: /}, upstream: "${B}"}
  - {name: bigger, match: {path: /big}, upstream: "${B}", max_body_bytes: 64KiB}
  - {name: smaller, match: {path: /small}, upstream: "${B}", max_body_bytes: 16}
  - {name: unlimited, match: {path: /any}, upstream: "${B}", max_body_bytes: 0}
`, testkit.Vars{"B": b.URL})

	// Whether an over-limit chunked body reaches the backend at all depends
	// on whether the transport flushed the request head before the limit
	// was hit, so those cases do not check it.
	const (
		no = iota
		yes
		maybe
	)
	cases := []struct {
		path    string
		size    int
		chunked bool
		want    int
		reached int
	}{
		{"/", 1024, false, 200, yes},
		{"/", 1025, false, 413, no},
		{"/", 1024, true, 200, yes},
		{"/", 4096, true, 413, maybe},
		{"/big", 64 << 10, false, 200, yes},
		{"/big", 64<<10 + 1, false, 413, no},
		{"/big", 100 << 10, true, 413, maybe},
		{"/small", 16, false, 200, yes},
		{"/small", 17, false, 413, no},
		{"/any", 200 << 10, false, 200, yes},
		{"/any", 200 << 10, true, 200, yes},
	}
	for i, tc := range cases {
		kind := "length"
		if tc.chunked {
			kind = "chunked"
		}
		t.Run(tc.path+"/"+kind+"/"+itoa(tc.size), func(t *testing.T) {
			// A request the transport gave up on may still reach the
			// backend later, so each case counts only its own requests.
			target := tc.path + "?case=" + itoa(i)
			var body io.Reader = strings.NewReader(strings.Repeat("x", tc.size))
			if tc.chunked {
				body = io.NopCloser(body) // hides the length: sent chunked
			}
			res, got := g.Do(g.NewRequest(http.MethodPost, target, body, "Accept", "application/json"))
			if res.StatusCode != tc.want {
				t.Fatalf("status %d %q, want %d", res.StatusCode, got, tc.want)
			}
			if tc.want == 413 && !strings.Contains(got, `"error":"request body too large"`) {
				t.Errorf("413 body %q", got)
			}
			var mine []testkit.Request
			for _, r := range b.Requests() {
				if r.RequestURI == target {
					mine = append(mine, r)
				}
			}
			if tc.reached != maybe && (len(mine) > 0) != (tc.reached == yes) {
				t.Errorf("backend got %d requests, want reached=%v", len(mine), tc.reached == yes)
			}
			if tc.want == 200 && (len(mine) != 1 || len(mine[0].Body) != tc.size) {
				t.Errorf("backend got %d requests, want 1 with %d bytes", len(mine), tc.size)
			}
		})
	}
}

// TestOversizedBodiesDoNotEjectTarget: a client sending too large a body is
// the client's fault; it must not count as a failure of the target, or any
// client could take healthy targets out of rotation.
func TestOversizedBodiesDoNotEjectTarget(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
limits: {max_body_bytes: 1KiB}
upstreams:
  pool:
    targets: ["${B}"]
    health: {passive: {max_fails: 2, cooldown: 1m}}
routes:
  - {match: {path: /}, upstream: pool}
`, testkit.Vars{"B": b.URL})

	const bug = "the healthy target was ejected because a client's chunked bodies were over the limit: " +
		"the transport's http.MaxBytesError is handed to Pool.Failed like a target failure (proxy.Handler.forward)"
	for i := range 3 {
		res, _ := g.Do(g.NewRequest(http.MethodPost, "/", io.NopCloser(strings.NewReader(strings.Repeat("x", 4096)))))
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("oversized chunked upload %d: status %d, want 413; %s", i, res.StatusCode, bug)
		}
	}
	if res, body := g.Get("/"); res.StatusCode != 200 {
		t.Fatalf("after three oversized uploads a normal GET gets %d %q; %s", res.StatusCode, body, bug)
	}
	if e := g.Logs.Match("upstream target ejected"); len(e) > 0 {
		t.Errorf("target ejected: %v", e[0])
	}
}

func TestMaxHeaderBytes(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", max_header_bytes: 8KiB}]
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	// The limit holds to within net/http's accounting (request line and
	// header lines as read): 9 KiB of header is refused, 7 KiB is not.
	res, _ := g.Get("/", "X-Big", strings.Repeat("a", 9<<10))
	if res.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("9 KiB header: status %d, want 431", res.StatusCode)
	}
	if res, _ := g.Get("/", "X-Small", strings.Repeat("a", 7<<10)); res.StatusCode != 200 {
		t.Errorf("7 KiB header: status %d", res.StatusCode)
	}
	if b.Hits() != 1 {
		t.Errorf("backend hits %d, want 1 (the small request only)", b.Hits())
	}
}

// TestSlowloris: a client that never finishes its header is disconnected
// after read_header_timeout.
func TestSlowloris(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", read_header_timeout: 300ms}]
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	c := testkit.Dial(t, g.Addr)
	start := time.Now()
	c.Send("GET / HTTP/1.1\nHost: x\nX-Slow: ")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	var err error
	for err == nil {
		var n int
		n, err = c.Read(buf)
		if n > 0 && !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 408") {
			t.Errorf("unexpected answer %q", buf[:n])
		}
	}
	elapsed := time.Since(start)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection still open after %s with read_header_timeout 300ms", elapsed)
	}
	if elapsed < 250*time.Millisecond || elapsed > 3*time.Second {
		t.Errorf("connection closed after %s, want about 300ms", elapsed)
	}
	if b.Hits() != 0 {
		t.Errorf("backend hits %d", b.Hits())
	}
}

// TestAbortedUploadsDoNotEjectTarget: a client that declares a body and
// hangs up halfway is not the target's failure either.
func TestAbortedUploadsDoNotEjectTarget(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
upstreams:
  pool:
    targets: ["${B}"]
    health: {passive: {max_fails: 2, cooldown: 1m}}
routes:
  - {match: {path: /}, upstream: pool}
`, testkit.Vars{"B": b.URL})

	for i := range 3 {
		c := testkit.Dial(t, g.Addr)
		c.Send("POST /upload HTTP/1.1\nHost: x\nContent-Length: 100000\n\n")
		c.SendBytes(strings.Repeat("x", 1000))
		testkit.Eventually(t, 5*time.Second, func() bool { return b.Hits() == i+1 }, "upload %d did not reach the backend", i)
		c.Close()
	}
	// Each aborted upload ends when the proxy notices the client is gone;
	// give the three of them time to be accounted for.
	testkit.Eventually(t, 5*time.Second, func() bool { return len(g.Access.Match("request", "method", "POST")) == 3 },
		"the aborted uploads were not logged")
	if res, body := g.Get("/"); res.StatusCode != 200 {
		t.Fatalf("after three aborted uploads a normal GET gets %d %q: the healthy target was ejected "+
			"because clients hung up mid-body (passive health counts a client body read error as a target failure)",
			res.StatusCode, body)
	}
	if e := g.Logs.Match("upstream target ejected"); len(e) > 0 {
		t.Errorf("target ejected: %v", e[0])
	}
}
