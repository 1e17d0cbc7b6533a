package server_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// These tests run a whole Server through a real config, as the command
// does: testkit.Start loads YAML with config.Load, serves it with
// server.New(gateway.NewEnv(...)) and Apply, and shuts it down at the
// end.

// respondV is a route answering every request with body v.
func respondV(v string) string { return "routes: [{respond: {body: " + v + "}}]\n" }

// TestApplyKeepsSocket: applying the same config again, or one that only
// changes routes, keeps the listening socket (same port) and the open
// keep-alive connection, which is served by the new routes.
func TestApplyKeepsSocket(t *testing.T) {
	t.Parallel()
	g := testkit.Start(t, respondV("v1"), nil)
	c := testkit.Dial(t, g.Addr)
	get := func(want string) {
		t.Helper()
		c.Send("GET / HTTP/1.1\nHost: example.test\n\n")
		if res, body := c.ReadResponse("GET"); res.StatusCode != 200 || body != want || res.Close {
			t.Fatalf("got %d %q (close %v), want 200 %q on a kept-alive connection", res.StatusCode, body, res.Close, want)
		}
	}
	get("v1")
	if err := g.Apply(respondV("v1")); err != nil {
		t.Fatalf("apply the same config: %v", err)
	}
	get("v1")
	if err := g.Apply(respondV("v2")); err != nil {
		t.Fatalf("apply new routes: %v", err)
	}
	get("v2")
	if got := g.AddrOf(testkit.AnyPort); got != g.Addr {
		t.Errorf("listener moved from %s to %s", g.Addr, got)
	}
	if _, body := g.Get("/"); body != "v2" {
		t.Errorf("new connection got %q, want v2", body)
	}
}

// TestReloadMovesNewConnectionsToNewFront: a reload that changes a
// listener's settings serves new connections with the new settings on
// the same socket, while a connection opened before finishes its
// in-flight request and goes on with the old settings.
func TestReloadMovesNewConnectionsToNewFront(t *testing.T) {
	t.Parallel()
	gate := testkit.NewGate()
	b := testkit.NewBackend(t, "slow", gate.Wrap(testkit.Fixed(200, "slow")))
	routes := `
routes:
  - {match: {path: /slow}, upstream: "${B}"}
  - {respond: {body: quick}}
`
	vars := testkit.Vars{"B": b.URL}
	g := testkit.Start(t, `listeners: [{address: "${LISTEN}", max_header_bytes: 64KiB}]`+routes, vars)
	big := "X-Big: " + strings.Repeat("a", 20<<10) + "\n"

	old := testkit.Dial(t, g.Addr)
	old.Send("GET /slow HTTP/1.1\nHost: example.test\n\n")
	gate.WaitArrived(t, 5*time.Second)

	if err := g.Apply(`listeners: [{address: "${LISTEN}", max_header_bytes: 8KiB}]` + routes); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if got := g.AddrOf(testkit.AnyPort); got != g.Addr {
		t.Fatalf("listener moved from %s to %s", g.Addr, got)
	}
	if res, _ := testkit.RoundTrip(t, g.Addr, "GET / HTTP/1.1\nHost: example.test\n"+big+"\n"); res.StatusCode != 431 {
		t.Errorf("new connection, 20KiB header: %d, want 431 under the new 8KiB limit", res.StatusCode)
	}
	if res, body := testkit.RoundTrip(t, g.Addr, "GET / HTTP/1.1\nHost: example.test\n\n"); res.StatusCode != 200 || body != "quick" {
		t.Errorf("new connection: %d %q", res.StatusCode, body)
	}

	gate.Release()
	if res, body := old.ReadResponse("GET"); res.StatusCode != 200 || body != "slow" {
		t.Fatalf("in-flight request across the reload: %d %q, want 200 slow", res.StatusCode, body)
	}
	old.Send("GET / HTTP/1.1\nHost: example.test\n" + big + "\n")
	if res, body := old.ReadResponse("GET"); res.StatusCode != 200 || body != "quick" {
		t.Errorf("old connection after the reload, 20KiB header: %d %q, want 200 under its 64KiB limit", res.StatusCode, body)
	}
}

// TestRefusedApplyChangesNothing: a config that loads but cannot be
// applied (a CA bundle broken after validation, an address in use)
// leaves the running config serving and binds nothing; once the cause
// is gone the same config applies.
func TestRefusedApplyChangesNothing(t *testing.T) {
	t.Parallel()
	ca := testkit.NewCA(t, "server test CA")
	leaf := ca.Issue([]string{"site.test"}, testkit.LeafOptions{})
	holder, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	vars := testkit.Vars{"CA": ca.CertFile, "CERT": leaf.CertFile, "KEY": leaf.KeyFile, "TAKEN": holder.Addr().String()}
	g := testkit.Start(t, respondV("v1"), vars)

	check := func(when string) {
		t.Helper()
		if res, body := g.Get("/"); res.StatusCode != 200 || body != "v1" {
			t.Errorf("%s: got %d %q, want the old config's v1", when, res.StatusCode, body)
		}
		for _, a := range []string{"127.0.0.2:0", "127.0.0.3:0"} {
			if addr := g.Server.Addr(a); addr != nil {
				t.Errorf("%s: %s bound at %s by a refused config", when, a, addr)
			}
		}
	}

	t.Run("broken CA", func(t *testing.T) {
		dir := t.TempDir()
		caFile := dir + "/ca.pem"
		pem, err := os.ReadFile(ca.CertFile)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(caFile, pem, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := g.Load(`
listeners:
  - {address: "${LISTEN}"}
  - {address: "127.0.0.2:0", tls: {client_auth: {mode: require, ca: "` + caFile + `"}}}
tls: {certificates: [{cert: "${CERT}", key: "${KEY}"}]}
` + respondV("v2"))
		// Validated, then broken before it is applied.
		if err := os.WriteFile(caFile, []byte("not a certificate"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := g.Server.Apply(cfg); err == nil {
			t.Fatal("a config with an unreadable CA bundle applied")
		}
		check("after the broken CA")
	})

	t.Run("address in use", func(t *testing.T) {
		yaml := `
listeners:
  - {address: "${LISTEN}"}
  - {address: "127.0.0.3:0"}
  - {address: "${TAKEN}"}
` + respondV("v2")
		err := g.Apply(yaml)
		if !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatalf("apply with an address in use: %v, want EADDRINUSE", err)
		}
		check("after the address in use")
		holder.Close()
		if err := g.Apply(yaml); err != nil {
			t.Fatalf("the same config once the address is free: %v", err)
		}
		if _, body := g.Get("/"); body != "v2" {
			t.Errorf("after the successful apply: %q, want v2", body)
		}
	})
}

// protoHeaders makes a route report what the handler saw of the
// connection: TLS facts from r.TLS, and the scheme.
const protoHeaders = `response_headers: {set: {X-Tls-Version: "{tls_version}", X-Alpn: "{tls_alpn}", X-Scheme: "{scheme}"}}`

// TestTLSListenerSplitsByALPN: on a TLS listener ALPN "h2" goes to the
// HTTP/2 engine, "http/1.1" or no ALPN at all to the HTTP/1.1 engine, and
// both engines' handlers see the TLS state.
func TestTLSListenerSplitsByALPN(t *testing.T) {
	t.Parallel()
	ca := testkit.NewCA(t, "server test CA")
	leaf := ca.Issue([]string{"site.test"}, testkit.LeafOptions{})
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", tls: {}}]
tls: {certificates: [{cert: "${CERT}", key: "${KEY}"}]}
routes: [{respond: {body: hi}, `+protoHeaders+`}]
`, testkit.Vars{"CERT": leaf.CertFile, "KEY": leaf.KeyFile})

	for _, tc := range []struct {
		name   string
		client *http.Client
		major  int
		alpn   string
	}{
		{"h2", testkit.HTTPSClient(t, g.Addr, testkit.HTTP2, ca.ClientTLS("site.test", nil)), 2, "h2"},
		{"http1", h1Client(t, g.Addr, ca.ClientTLS("site.test", nil), "http/1.1"), 1, "http/1.1"},
		{"no-alpn", h1Client(t, g.Addr, ca.ClientTLS("site.test", nil)), 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := get(t, tc.client, "https://site.test/"+tc.name)
			if res.StatusCode != 200 || body != "hi" || res.ProtoMajor != tc.major {
				t.Fatalf("got %d %q over %s, want 200 hi over HTTP/%d", res.StatusCode, body, res.Proto, tc.major)
			}
			if res.TLS == nil || res.TLS.NegotiatedProtocol != tc.alpn {
				t.Errorf("client negotiated %+v, want ALPN %q", res.TLS, tc.alpn)
			}
			if res.Header.Get("X-Tls-Version") == "" || res.Header.Get("X-Alpn") != tc.alpn || res.Header.Get("X-Scheme") != "https" {
				t.Errorf("the handler saw TLS %q ALPN %q scheme %q; want r.TLS set with ALPN %q",
					res.Header.Get("X-Tls-Version"), res.Header.Get("X-Alpn"), res.Header.Get("X-Scheme"), tc.alpn)
			}
			checkProto(t, g, "/"+tc.name, tc.major)
		})
	}
}

// TestH2CListenerSplitsByPreface: on a plain listener with h2c, a client
// that opens with HTTP/2's preface gets the HTTP/2 engine and every other
// the HTTP/1.1 engine; neither sees TLS.
func TestH2CListenerSplitsByPreface(t *testing.T) {
	t.Parallel()
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", h2c: true}]
routes: [{respond: {body: hi}, `+protoHeaders+`}]
`, nil)
	for _, tc := range []struct {
		name   string
		client *http.Client
		major  int
	}{
		{"h2c", testkit.HTTPSClient(t, g.Addr, testkit.H2C, nil), 2},
		{"http1", g.Client(), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := get(t, tc.client, "http://"+g.Addr+"/"+tc.name)
			if res.StatusCode != 200 || body != "hi" || res.ProtoMajor != tc.major {
				t.Fatalf("got %d %q over %s, want 200 hi over HTTP/%d", res.StatusCode, body, res.Proto, tc.major)
			}
			if v := res.Header.Get("X-Tls-Version"); v != "" || res.Header.Get("X-Scheme") != "http" {
				t.Errorf("the handler saw TLS %q scheme %q on a plain listener", v, res.Header.Get("X-Scheme"))
			}
			checkProto(t, g, "/"+tc.name, tc.major)
		})
	}
}

// TestShutdownDrains: Shutdown stops accepting at once, waits for the
// request in flight, closes idle keep-alive connections, and returns once
// the request has been answered.
func TestShutdownDrains(t *testing.T) {
	t.Parallel()
	gate := testkit.NewGate()
	b := testkit.NewBackend(t, "slow", gate.Wrap(testkit.Fixed(200, "slow")))
	g := testkit.Start(t, `
routes:
  - {match: {path: /slow}, upstream: "${B}"}
  - {respond: {body: quick}}
`, testkit.Vars{"B": b.URL})

	idle := testkit.Dial(t, g.Addr)
	idle.Send("GET / HTTP/1.1\nHost: example.test\n\n")
	idle.ReadResponse("GET")
	busy := testkit.Dial(t, g.Addr)
	busy.Send("GET /slow HTTP/1.1\nHost: example.test\n\n")
	gate.WaitArrived(t, 5*time.Second)

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- g.Server.Shutdown(ctx)
	}()
	testkit.Eventually(t, 5*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", g.Addr, time.Second)
		if err == nil {
			c.Close()
		}
		return errors.Is(err, syscall.ECONNREFUSED)
	}, "new connections still accepted during shutdown")
	idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := idle.R.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("idle keep-alive connection during shutdown: read %d, %v; want it closed", n, err)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) with a request in flight", err)
	default:
	}

	gate.Release()
	if res, body := busy.ReadResponse("GET"); res.StatusCode != 200 || body != "slow" {
		t.Errorf("in-flight request: %d %q, want 200 slow", res.StatusCode, body)
	}
	select {
	case err := <-shut:
		if err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown still running 5s after the last request ended")
	}
}

// TestShutdownDeadlineCutsOff: a request still in flight when Shutdown's
// context ends is cut off, and Shutdown says so.
func TestShutdownDeadlineCutsOff(t *testing.T) {
	t.Parallel()
	gate := testkit.NewGate()
	defer gate.Release()
	b := testkit.NewBackend(t, "stuck", gate.Wrap(nil))
	g := testkit.Start(t, `routes: [{upstream: "${B}"}]`, testkit.Vars{"B": b.URL})
	busy := testkit.Dial(t, g.Addr)
	busy.Send("GET /stuck HTTP/1.1\nHost: example.test\n\n")
	gate.WaitArrived(t, 5*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := g.Server.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown with a request stuck past its deadline: %v, want the deadline", err)
	}
	if res, _, err := busy.TryReadResponse("GET"); err == nil {
		t.Errorf("the stuck request got a whole answer (%d) from a server that gave up on it", res.StatusCode)
	}
}

// get sends GET url with client and reads the whole answer.
func get(t *testing.T, client *http.Client, url string) (*http.Response, string) {
	t.Helper()
	res, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", url, err)
	}
	return res, string(b)
}

// checkProto waits for the access log line of the request for path and
// checks the protocol the handler saw (r.Proto).
func checkProto(t *testing.T, g *testkit.Gatehouse, path string, major int) {
	t.Helper()
	want := "HTTP/1.1"
	if major == 2 {
		want = "HTTP/2.0"
	}
	if e := g.Access.Wait(t, 5*time.Second, "request", "path", path); e.Str("proto") != want {
		t.Errorf("access log protocol for %s: %q, want %s", path, e.Str("proto"), want)
	}
}

// h1Client is an HTTP/1.1 client over TLS to addr that offers protos by
// ALPN, in that order (none at all, as some old clients do, when empty).
func h1Client(t *testing.T, addr string, conf *tls.Config, protos ...string) *http.Client {
	conf = conf.Clone()
	conf.NextProtos = protos
	tr := &http.Transport{
		Proxy: nil,
		DialTLSContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			d := tls.Dialer{Config: conf}
			return d.DialContext(ctx, "tcp", addr)
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}
