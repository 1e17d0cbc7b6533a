package e2e

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// Regression tests for a security review: each guards a hole that was
// found open and closed.

// TestTargetSentVerbatim: the backend receives the request target exactly
// as the client wrote it, and routing decides on that same path. net/url
// would re-encode a path containing "|" and the like from its decoded
// form, turning "%2F" into "/" so "..%2F.." became "../.." at the backend.
func TestTargetSentVerbatim(t *testing.T) {
	t.Parallel()
	pub := testkit.NewBackend(t, "public", nil)
	adm := testkit.NewBackend(t, "admin", nil)
	g := testkit.Start(t, `
routes:
  - {name: public, match: {path: /public}, upstream: "${PUB}"}
  - {name: admin, match: {path: /admin}, upstream: "${ADM}"}
  - {name: v1, match: {path: /api}, upstream: "${PUB}", rewrite: {replace_prefix: {from: /api, to: /v1}}}
`, testkit.Vars{"PUB": pub.URL, "ADM": adm.URL})
	for _, tc := range []struct{ target, want string }{
		{"/public/|/..%2F..%2Fadmin", "/public/|/..%2F..%2Fadmin"},
		{"/public/a%2Fb|", "/public/a%2Fb|"},
		{"/api/|/..%2F..%2Fadmin", "/v1/|/..%2F..%2Fadmin"},
		{"/public/search?", "/public/search?"},
		{"/public/q/{id}?x=1", "/public/q/{id}?x=1"},
		{`/public/x"y`, `/public/x"y`},
		{"/public/caf%C3%A9", "/public/caf%C3%A9"},
	} {
		pub.Reset()
		res, body := testkit.RoundTrip(t, g.Addr, "GET "+tc.target+" HTTP/1.1\nHost: example.com\nConnection: close\n\n")
		if res.StatusCode != http.StatusOK || body != "public" {
			t.Errorf("GET %s: %d %q, want 200 from public", tc.target, res.StatusCode, body)
			continue
		}
		if got := pub.Last().RequestURI; got != tc.want {
			t.Errorf("GET %s: backend saw %q, want %q", tc.target, got, tc.want)
		}
	}
	if adm.Hits() != 0 {
		t.Errorf("admin backend was reached %d times", adm.Hits())
	}
}

// TestAbsoluteFormEmptyPath: "GET http://host HTTP/1.1" means path "/"
// (RFC 9110 section 4.2.3).
func TestAbsoluteFormEmptyPath(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})
	for _, target := range []string{"http://app.local", "http://app.local?q=1"} {
		res, body := testkit.RoundTrip(t, g.Addr, "GET "+target+" HTTP/1.1\nHost: app.local\nConnection: close\n\n")
		if res.StatusCode != 200 {
			t.Errorf("GET %s: %d %q, want 200", target, res.StatusCode, body)
		}
	}
}

// TestSpoofableForwardingVariantsDropped: underscore spellings (which CGI
// style backends fold into HTTP_X_FORWARDED_FOR) and the scheme and
// client-IP headers frameworks believe never pass from an untrusted peer.
func TestSpoofableForwardingVariantsDropped(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})
	res, _ := testkit.RoundTrip(t, g.Addr, "GET / HTTP/1.1\nHost: x\nConnection: close\n"+
		"X_Forwarded_For: 6.6.6.6\nX-Real_IP: 6.6.6.6\nX_Forwarded_Proto: https\n"+
		"X-Forwarded-Ssl: on\nX-Forwarded-Scheme: https\nFront-End-Https: on\nX-Url-Scheme: https\n"+
		"True-Client-IP: 6.6.6.6\nX-Client-IP: 6.6.6.6\nX-Cluster-Client-IP: 6.6.6.6\nX-Keep: yes\n\n")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	h := b.Last().Header
	for _, k := range []string{"X_forwarded_for", "X-Real_ip", "X_forwarded_proto", "X-Forwarded-Ssl",
		"X-Forwarded-Scheme", "Front-End-Https", "X-Url-Scheme", "True-Client-Ip", "X-Client-Ip", "X-Cluster-Client-Ip"} {
		if v := h[k]; len(v) > 0 {
			t.Errorf("client-supplied %s: %q reached the backend", k, v)
		}
	}
	if h.Get("X-Keep") != "yes" {
		t.Error("an ordinary header was dropped too")
	}
}

// TestUnderscoresInHeadersOption: the nginx-style opt-in passes them.
func TestUnderscoresInHeadersOption(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
forwarding: {underscores_in_headers: true}
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})
	testkit.RoundTrip(t, g.Addr, "GET / HTTP/1.1\nHost: x\nConnection: close\nX_Custom: 1\n\n")
	if got := b.Last().Header["X_custom"]; len(got) != 1 || got[0] != "1" {
		t.Errorf("X_Custom = %q, want passed with the option on", got)
	}
}

// TestRedirectAppendPathEscapesBackslash: browsers read "/\host" as
// "//host", so a raw backslash in an appended path must not make an open
// redirect.
func TestRedirectAppendPathEscapesBackslash(t *testing.T) {
	t.Parallel()
	g := testkit.Start(t, `
routes:
  - match: {path: /old}
    redirect: {to: /, status: 301, append_path: true}
    rewrite: {strip_prefix: /old}
`, nil)
	res, _ := testkit.RoundTrip(t, g.Addr, "GET /old/\\evil.example/x HTTP/1.1\nHost: site.example\nConnection: close\n\n")
	if loc := res.Header.Get("Location"); loc != "/%5Cevil.example/x" {
		t.Errorf("Location %q, want /%%5Cevil.example/x", loc)
	}
}

// TestFailedReloadKeepsUpstreamPool: a reload refused after compiling
// (here a listener cannot bind) must not touch the running upstream pool.
func TestFailedReloadKeepsUpstreamPool(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	b := testkit.NewBackend(t, "b", nil)
	vars := testkit.Vars{"B": b.URL, "TAKEN": taken.Addr().String()}
	base := `
upstreams:
  pool: {targets: ["${B}"], dial_timeout: 5s}
routes:
  - {match: {path: /}, upstream: pool}
`
	g := testkit.Start(t, base, vars)
	peer := func() string {
		t.Helper()
		if res, _ := g.Get("/"); res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		return b.Last().RemoteAddr
	}
	first := peer()
	if again := peer(); again != first {
		t.Fatalf("pool not reused even without a reload: %s then %s", first, again)
	}
	err = g.Apply(`
listeners:
  - {address: "${LISTEN}"}
  - {name: second, address: "${TAKEN}"}
upstreams:
  pool: {targets: ["${B}"], dial_timeout: 4s}
routes:
  - {match: {path: /}, upstream: pool}
`)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("reload: %v, want a bind failure", err)
	}
	if got := peer(); got != first {
		t.Errorf("a refused reload replaced the upstream connection: %s -> %s", first, got)
	}
	if err := g.Apply(base); err != nil {
		t.Fatal(err)
	}
	if got := peer(); got != first {
		t.Errorf("a reload to the running settings did not keep the pool: %s -> %s", first, got)
	}
}

// TestUpgradeWithBodyNotTunneled: an Upgrade request with a body is sent
// as a plain request (its upload would still be running when the
// connection was taken over); a target that switches protocols anyway
// gets the client a 502, and nothing races or crashes (run with -race).
func TestUpgradeWithBodyNotTunneled(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "ws", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
		brw.Flush()
		conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		io.Copy(io.Discard, brw)
	}))
	g := testkit.Start(t, `
routes:
  - {match: {path: /ws}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})
	const n = 4 << 20
	chunk := strings.Repeat("A", 64<<10)
	for range 3 {
		c := testkit.Dial(t, g.Addr)
		c.Send("GET /ws HTTP/1.1\nHost: x\nConnection: Upgrade\nUpgrade: websocket\nContent-Length: " + strconv.Itoa(n) + "\n\n")
		done := make(chan struct{})
		go func() {
			defer close(done)
			for sent := 0; sent < n; sent += len(chunk) {
				c.SetWriteDeadline(time.Now().Add(3 * time.Second))
				if _, err := c.Conn.Write([]byte(chunk)); err != nil {
					return
				}
			}
		}()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := c.R.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 502") {
			t.Errorf("first response line %q, %v; want a 502, never a tunnel", line, err)
		}
		c.Close()
		<-done
	}
}

// TestBrokenRequestBody: a body the client botches gets its own 4xx, never
// the empty 200 net/http would send if the handler wrote nothing.
func TestBrokenRequestBody(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil) // Echo reads the whole body
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", client_body_timeout: 300ms}]
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	// More times than passive max_fails (3): the target must not be
	// blamed for the client's body.
	for range 4 {
		c := testkit.Dial(t, g.Addr)
		c.Send("POST /upload HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\n5\nhello\nzz\nbroken\n0\n\n")
		if res, body := c.ReadResponse("POST"); res.StatusCode != http.StatusBadRequest {
			t.Errorf("malformed chunked body: %d %q, want 400", res.StatusCode, body)
		}
	}
	if res, body := g.Get("/ok"); res.StatusCode != 200 {
		t.Errorf("after malformed bodies the target gives %d %q; it was blamed for the client", res.StatusCode, body)
	}

	c := testkit.Dial(t, g.Addr)
	c.Send("POST /upload HTTP/1.1\nHost: x\nContent-Length: 10\n\n12345")
	start := time.Now()
	res, body := c.ReadResponse("POST")
	if res.StatusCode != http.StatusRequestTimeout {
		t.Errorf("stalled upload: %d %q, want 408", res.StatusCode, body)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stalled upload answered after %v, want about client_body_timeout (300ms)", d)
	}
}

// TestHalfClosedClientAborted: a client that shuts its write side while
// waiting is treated as gone (as nginx does: 499 in the log); its
// connection is closed rather than answered with an empty 200.
func TestHalfClosedClientAborted(t *testing.T) {
	t.Parallel()
	gate := testkit.NewGate()
	b := testkit.NewBackend(t, "b", gate.Wrap(testkit.Fixed(http.StatusNotFound, "no such thing")))
	g := testkit.Start(t, `
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})
	c := testkit.Dial(t, g.Addr)
	c.Send("GET /thing HTTP/1.1\nHost: x\nConnection: close\n\n")
	gate.WaitArrived(t, 5*time.Second)
	c.Conn.(interface{ CloseWrite() error }).CloseWrite()
	g.Access.Wait(t, 5*time.Second, "request", "path", "/thing")
	gate.Release()
	if res, body, err := c.TryReadResponse("GET"); err == nil {
		t.Errorf("half-closed client got %d %q; want the connection closed", res.StatusCode, body)
	}
}

// TestSlowUploadReleasesUpstream: a client stalling its upload holds the
// target's only connection (max_conns: 1) for client_body_timeout at most;
// meanwhile other requests get 503 after dial_timeout instead of hanging,
// and afterwards the target serves again.
func TestSlowUploadReleasesUpstream(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", client_body_timeout: 1s}]
upstreams:
  pool: {targets: ["${B}"], max_conns: 1, dial_timeout: 300ms}
routes:
  - {match: {path: /}, upstream: pool}
`, testkit.Vars{"B": b.URL})

	slow := testkit.Dial(t, g.Addr)
	slow.Send("POST /upload HTTP/1.1\nHost: x\nContent-Length: 1000\n\nx")
	testkit.Eventually(t, 5*time.Second, func() bool { return b.Hits() > 0 || len(b.Requests()) > 0 || g.Logs.String() != "" },
		"the slow upload never reached the target")
	time.Sleep(100 * time.Millisecond)

	start := time.Now()
	res, body := g.Get("/other", "Accept", "application/json")
	if res.StatusCode != http.StatusServiceUnavailable || time.Since(start) > 2*time.Second {
		t.Errorf("while the only connection is busy: %d %q after %v, want 503 after about 300ms", res.StatusCode, body, time.Since(start))
	}
	if res, body := slow.ReadResponse("POST"); res.StatusCode != http.StatusRequestTimeout {
		t.Errorf("slow upload: %d %q, want 408", res.StatusCode, body)
	}
	testkit.Eventually(t, 5*time.Second, func() bool {
		res, _ := g.Get("/after")
		return res.StatusCode == 200
	}, "the target never served again after the slow upload timed out")
}

// TestSlowReaderReleasesUpstream: a client that stops reading a large
// response is cut off after send_timeout, releasing the target connection.
func TestSlowReaderReleasesUpstream(t *testing.T) {
	t.Parallel()
	big := testkit.Sized(64 << 20)
	b := testkit.NewBackend(t, "b", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			big.ServeHTTP(w, r)
			return
		}
		io.WriteString(w, "small")
	}))
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", send_timeout: 500ms}]
upstreams:
  pool: {targets: ["${B}"], max_conns: 1, dial_timeout: 300ms}
routes:
  - {match: {path: /}, upstream: pool}
`, testkit.Vars{"B": b.URL})

	slow := testkit.Dial(t, g.Addr)
	slow.Send("GET /big HTTP/1.1\nHost: x\n\n") // and never read
	e := g.Logs.Wait(t, 10*time.Second, "request failed", "path", "/big")
	if !strings.Contains(e.Str("error"), "i/o timeout") {
		t.Errorf("log error %q, want the write timeout", e.Str("error"))
	}
	testkit.Eventually(t, 5*time.Second, func() bool {
		res, _ := g.Get("/small")
		return res.StatusCode == 200
	}, "the target never served again after the slow reader was cut off")
}

// TestStalledUpstreamBody: a target that stops mid-response is cut off
// after read_timeout; the client's response is aborted (never completed
// as if whole) and the log says why.
func TestStalledUpstreamBody(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		io.WriteString(w, "first part")
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	}))
	g := testkit.Start(t, `
upstreams:
  slow: {targets: ["${B}"], read_timeout: 300ms}
routes:
  - {match: {path: /}, upstream: slow}
`, testkit.Vars{"B": b.URL})
	start := time.Now()
	// The response header may or may not have left before the stall (it
	// is buffered with the first bytes); either way the client must see
	// an error, never a complete response.
	res, err := g.Client().Get(g.URL + "/stall")
	if err == nil {
		body, rerr := io.ReadAll(res.Body)
		res.Body.Close()
		if rerr == nil {
			t.Errorf("read %q with no error; want the response cut short", body)
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("cut off after %v, want about read_timeout (300ms)", d)
	}
	e := g.Logs.Wait(t, 5*time.Second, "request failed")
	if !strings.Contains(e.Str("error"), "sent no response bytes") {
		t.Errorf("log error %q, want it to say the target stalled", e.Str("error"))
	}
}

// TestLongResponseAfterBody: the per-read body deadline ends with the
// body, so a response streaming for longer than client_body_timeout (and
// with pauses longer than it) is not cut off.
func TestLongResponseAfterBody(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		for i := range 3 {
			io.WriteString(w, "data: "+strconv.Itoa(i)+"\n\n")
			rc.Flush()
			time.Sleep(400 * time.Millisecond)
		}
	}))
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", client_body_timeout: 200ms, send_timeout: 200ms}]
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})
	res, body := g.Do(g.NewRequest("POST", "/stream", strings.NewReader("some body")))
	if res.StatusCode != 200 || body != "data: 0\n\ndata: 1\n\ndata: 2\n\n" {
		t.Errorf("got %d %q, want all three events", res.StatusCode, body)
	}
}
