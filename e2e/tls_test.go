package e2e

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// tlsSetup is a CA, a certificate for site.test and *.site.test, and the
// YAML for them.
type tlsSetup struct {
	ca   *testkit.CA
	leaf *testkit.Leaf
	vars testkit.Vars
}

func newTLSSetup(t *testing.T, backendURL string) *tlsSetup {
	ca := testkit.NewCA(t, "e2e CA")
	leaf := ca.Issue([]string{"site.test", "*.site.test"}, testkit.LeafOptions{})
	return &tlsSetup{ca: ca, leaf: leaf, vars: testkit.Vars{"B": backendURL, "CERT": leaf.CertFile, "KEY": leaf.KeyFile}}
}

const tlsCerts = `
tls:
  certificates: [{cert: "${CERT}", key: "${KEY}"}]
`

// startTLS runs Gatehouse with listeners (YAML) and the site.test
// certificate, routing everything to b.
func startTLS(t *testing.T, b *testkit.Backend, listeners string) (*testkit.Gatehouse, *tlsSetup) {
	s := newTLSSetup(t, b.URL)
	return testkit.Start(t, listeners+tlsCerts+`
routes: [{upstream: "${B}"}]
`, s.vars), s
}

// TestHTTPSOverHTTP1AndHTTP2 terminates TLS 1.3 for both protocols and
// tells the backend the scheme was https.
func TestHTTPSOverHTTP1AndHTTP2(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", testkit.Echo())
	g, s := startTLS(t, b, `
listeners: [{address: "${LISTEN}", tls: {}}]
`)
	for _, tc := range []struct {
		p     testkit.Protocol
		proto string
	}{{testkit.HTTP1, "HTTP/1.1"}, {testkit.HTTP2, "HTTP/2.0"}} {
		c := testkit.HTTPSClient(t, g.Addr, tc.p, s.ca.ClientTLS("site.test", nil))
		res, err := c.Get("https://site.test/x")
		if err != nil {
			t.Fatalf("%s: %v", tc.proto, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.Proto != tc.proto {
			t.Errorf("got %d over %s, want 200 over %s", res.StatusCode, res.Proto, tc.proto)
		}
		if v := res.TLS.Version; v != tls.VersionTLS13 {
			t.Errorf("%s: TLS version %x, want 1.3", tc.proto, v)
		}
		if got := b.Last().Header.Get("X-Forwarded-Proto"); got != "https" {
			t.Errorf("%s: X-Forwarded-Proto %q, want https", tc.proto, got)
		}
	}
}

// TestPlainHTTPOnTLSPort gets a clear 400, not a hang.
func TestPlainHTTPOnTLSPort(t *testing.T) {
	t.Parallel()
	s := newTLSSetup(t, "http://127.0.0.1:9")
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", tls: {}}]
`+tlsCerts+`
routes: [{respond: {body: hi}}]
`, s.vars)
	c, err := net.DialTimeout("tcp", g.Addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: site.test\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no HTTP answer from the TLS port: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 400 || !strings.Contains(string(body), "HTTPS") {
		t.Errorf("got %d %q, want 400 explaining HTTPS is needed", res.StatusCode, body)
	}
}

// twoListeners is a plain listener (the harness's) and a TLS one.
const twoListeners = `
listeners:
  - {address: "${LISTEN}"}
  - {address: "127.0.0.2:0", tls: {}}
`

// TestRedirectToHTTPS: plain requests for hosts with a certificate get a
// 308 to the TLS listener's port with path and query kept; other hosts and
// ACME challenge paths are served.
func TestRedirectToHTTPS(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", testkit.Echo())
	g, s := startTLS(t, b, twoListeners)
	_, port, _ := net.SplitHostPort(g.AddrOf("127.0.0.2:0"))

	for _, host := range []string{"site.test", "WWW.Site.Test:80"} {
		res, _ := g.Get("/a/b?q=1&r=%2F", "Host", host)
		want := "https://" + strings.ToLower(strings.TrimSuffix(host, ":80")) + ":" + port + "/a/b?q=1&r=%2F"
		if res.StatusCode != http.StatusPermanentRedirect || res.Header.Get("Location") != want {
			t.Errorf("Host %s: got %d Location %q, want 308 %q", host, res.StatusCode, res.Header.Get("Location"), want)
		}
	}
	// A POST keeps its method and body under 308.
	res, _ := g.Do(g.NewRequest("POST", "/form", strings.NewReader("x=1"), "Host", "site.test"))
	if res.StatusCode != http.StatusPermanentRedirect {
		t.Errorf("POST: got %d, want 308", res.StatusCode)
	}
	if res, _ := g.Get("/", "Host", "other.test"); res.StatusCode != 200 {
		t.Errorf("host without a certificate: got %d, want it proxied (200)", res.StatusCode)
	}
	if res, _ := g.Get("/.well-known/acme-challenge/token", "Host", "site.test"); res.StatusCode == http.StatusPermanentRedirect {
		t.Error("an ACME challenge path was redirected")
	}
	if b.Hits() != 2 {
		t.Errorf("backend hits %d, want 2 (other host, challenge path)", b.Hits())
	}

	// Following the redirect over TLS reaches the backend.
	c := testkit.HTTPSClient(t, g.AddrOf("127.0.0.2:0"), testkit.HTTP2, s.ca.ClientTLS("site.test", nil))
	res, err := c.Get("https://site.test:" + port + "/a/b?q=1")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || b.Last().RequestURI != "/a/b?q=1" {
		t.Errorf("after the redirect: %d, backend saw %q", res.StatusCode, b.Last().RequestURI)
	}
}

func TestRedirectCanBeTurnedOff(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", testkit.Echo())
	s := newTLSSetup(t, b.URL)
	g := testkit.Start(t, `
listeners:
  - {address: "${LISTEN}", redirect_https: false}
  - {address: "127.0.0.2:0", tls: {}}
`+tlsCerts+`
routes: [{upstream: "${B}"}]
`, s.vars)
	if res, _ := g.Get("/", "Host", "site.test"); res.StatusCode != 200 {
		t.Errorf("got %d, want 200 with redirect_https off", res.StatusCode)
	}
}

// TestHSTS: the header goes on HTTPS responses for the listed hosts only,
// never on plain HTTP.
func TestHSTS(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", testkit.Echo())
	s := newTLSSetup(t, b.URL)
	g := testkit.Start(t, `
listeners:
  - {address: "${LISTEN}", redirect_https: false}
  - {address: "127.0.0.2:0", tls: {}}
tls:
  certificates: [{cert: "${CERT}", key: "${KEY}"}]
  hsts:
    - {hosts: [site.test], max_age: 8760h, include_subdomains: true, preload: true}
    - {hosts: ["*.site.test"], max_age: 300s}
routes: [{upstream: "${B}"}]
`, s.vars)
	c := testkit.HTTPSClient(t, g.AddrOf("127.0.0.2:0"), testkit.HTTP1, s.ca.ClientTLS("site.test", nil))
	for host, want := range map[string]string{
		"site.test":     "max-age=31536000; includeSubDomains; preload",
		"api.site.test": "max-age=300",
	} {
		req, _ := http.NewRequest("GET", "https://"+host+"/", nil)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Strict-Transport-Security"); got != want {
			t.Errorf("%s: HSTS %q, want %q", host, got, want)
		}
	}
	if res, _ := g.Get("/", "Host", "site.test"); res.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent over plain HTTP")
	}
}

// TestH2C serves cleartext HTTP/2 with prior knowledge next to HTTP/1.1.
func TestH2C(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", testkit.Echo())
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", h2c: true}]
routes: [{upstream: "${B}"}]
`, testkit.Vars{"B": b.URL})
	c := testkit.HTTPSClient(t, g.Addr, testkit.H2C, nil)
	res, err := c.Get("http://" + g.Addr + "/h2c")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.ProtoMajor != 2 {
		t.Errorf("got %d over %s, want 200 over HTTP/2", res.StatusCode, res.Proto)
	}
	if res, _ := g.Get("/h1"); res.StatusCode != 200 || res.ProtoMajor != 1 {
		t.Errorf("HTTP/1.1 on an h2c listener: %d %s", res.StatusCode, res.Proto)
	}
}

// TestHTTP3 advertises HTTP/3 with Alt-Svc and serves it, bodies included.
func TestHTTP3(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", hashBody())
	g, s := startTLS(t, b, `
listeners: [{address: "${LISTEN}", tls: {}, http3: true}]
`)
	_, port, _ := net.SplitHostPort(g.Addr)
	h1 := testkit.HTTPSClient(t, g.Addr, testkit.HTTP1, s.ca.ClientTLS("site.test", nil))
	res, err := h1.Get("https://site.test/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got, want := res.Header.Get("Alt-Svc"), `h3=":`+port+`"; ma=86400`; got != want {
		t.Errorf("Alt-Svc %q, want %q", got, want)
	}

	h3 := testkit.HTTPSClient(t, g.Addr, testkit.HTTP3, s.ca.ClientTLS("site.test", nil))
	body := strings.Repeat("gatehouse ", 100_000)
	res, err = h3.Post("https://site.test/upload", "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.ProtoMajor != 3 {
		t.Fatalf("got %d over %s, want 200 over HTTP/3", res.StatusCode, res.Proto)
	}
	if res.Header.Get("X-Length") != fmt.Sprint(len(body)) || len(got) != 64 {
		t.Errorf("backend read %s bytes of %d (hash %q)", res.Header.Get("X-Length"), len(body), got)
	}
	if xfp := b.Last().Header.Get("X-Forwarded-Proto"); xfp != "https" {
		t.Errorf("X-Forwarded-Proto %q over HTTP/3", xfp)
	}
}

// TestSSEOverHTTP2AndHTTP3: events arrive one by one, unbuffered.
func TestSSEOverHTTP2AndHTTP3(t *testing.T) {
	t.Parallel()
	for _, p := range []testkit.Protocol{testkit.HTTP2, testkit.HTTP3} {
		next := make(chan struct{})
		b := testkit.NewBackend(t, "sse", testkit.SSE(next))
		s := newTLSSetup(t, b.URL)
		g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", tls: {}, http3: true}]
`+tlsCerts+`
routes: [{upstream: "${B}"}]
`, s.vars)
		c := testkit.HTTPSClient(t, g.Addr, p, s.ca.ClientTLS("site.test", nil))
		res, err := c.Get("https://site.test/events")
		if err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(res.Body)
		readEvent := func() string {
			var lines []string
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					t.Fatalf("%s: reading event: %v", res.Proto, err)
				}
				if line == "\n" {
					return strings.Join(lines, "")
				}
				lines = append(lines, line)
			}
		}
		if ev := readEvent(); !strings.Contains(ev, "event 1") {
			t.Errorf("%s: first event %q", res.Proto, ev)
		}
		close(next)
		if ev := readEvent(); !strings.Contains(ev, "event 2") {
			t.Errorf("%s: second event %q", res.Proto, ev)
		}
		res.Body.Close()
	}
}

// TestWebSocketOverTLS tunnels a WebSocket behind TLS (HTTP/1.1).
func TestWebSocketOverTLS(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "ws", testkit.WebSocketEcho())
	g, s := startTLS(t, b, `
listeners: [{address: "${LISTEN}", tls: {}}]
`)
	c := testkit.HTTPSClient(t, g.Addr, testkit.HTTP1, s.ca.ClientTLS("site.test", nil))
	ctx := t.Context()
	ws, _, err := websocket.Dial(ctx, "wss://site.test/ws", &websocket.DialOptions{HTTPClient: c})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	for i := range 3 {
		msg := fmt.Sprintf("hello %d", i)
		if err := ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		_, got, err := ws.Read(ctx)
		if err != nil || string(got) != msg {
			t.Fatalf("echo %q, %v; want %q", got, err, msg)
		}
	}
}

// TestCertificateSwapOnReload: a reload with a new certificate serves it
// to new connections while an open HTTP/2 connection keeps working; a
// reload with an expired certificate is refused, naming the file, and the
// old certificate stays.
func TestCertificateSwapOnReload(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", testkit.Echo())
	s := newTLSSetup(t, b.URL)
	cfg := `
listeners: [{address: "${LISTEN}", tls: {}}]
` + tlsCerts + `
routes: [{upstream: "${B}"}]
`
	g := testkit.Start(t, cfg, s.vars)
	open := testkit.HTTPSClient(t, g.Addr, testkit.HTTP2, s.ca.ClientTLS("site.test", nil))
	serial := func(c *http.Client) string {
		t.Helper()
		res, err := c.Get("https://site.test/")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.TLS.PeerCertificates[0].SerialNumber.String()
	}
	first := serial(open)

	fresh := s.ca.Issue([]string{"site.test"}, testkit.LeafOptions{})
	s.vars["CERT"], s.vars["KEY"] = fresh.CertFile, fresh.KeyFile
	if err := g.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	if got := serial(open); got != first {
		t.Errorf("the open connection changed certificate (%s → %s); it should have been kept", first, got)
	}
	newConn := testkit.HTTPSClient(t, g.Addr, testkit.HTTP2, s.ca.ClientTLS("site.test", nil))
	if got := serial(newConn); got != fresh.Cert.SerialNumber.String() {
		t.Errorf("new connection got certificate %s, want the reloaded %s", got, fresh.Cert.SerialNumber)
	}

	expired := s.ca.Issue([]string{"site.test"}, testkit.LeafOptions{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	s.vars["CERT"], s.vars["KEY"] = expired.CertFile, expired.KeyFile
	_, err := testkit.LoadConfig(cfg, s.vars)
	if err == nil || !strings.Contains(err.Error(), expired.CertFile) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired certificate: error %v, want one naming %s as expired", err, expired.CertFile)
	}
	os.Remove(fresh.KeyFile) // unreadable now: the running config must not care
	if got := serial(testkit.HTTPSClient(t, g.Addr, testkit.HTTP1, s.ca.ClientTLS("site.test", nil))); got != fresh.Cert.SerialNumber.String() {
		t.Errorf("after a refused reload: certificate %s, want %s", got, fresh.Cert.SerialNumber)
	}
}

// TestHTTP3AcrossReloads: a reload that changes the listener's other
// settings keeps the QUIC connection serving; turning http3 off stops it
// and drops the Alt-Svc advertisement.
func TestHTTP3AcrossReloads(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", testkit.Echo())
	s := newTLSSetup(t, b.URL)
	cfg := func(idle string, h3 bool) string {
		return fmt.Sprintf(`
listeners: [{address: "${LISTEN}", tls: {}, http3: %v, idle_timeout: %s}]
`+tlsCerts+`
routes: [{upstream: "${B}"}]
`, h3, idle)
	}
	g := testkit.Start(t, cfg("60s", true), s.vars)
	h3 := testkit.HTTPSClient(t, g.Addr, testkit.HTTP3, s.ca.ClientTLS("site.test", nil))
	get := func(c *http.Client) (*http.Response, error) {
		res, err := c.Get("https://site.test/")
		if err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		return res, err
	}
	if _, err := get(h3); err != nil {
		t.Fatal(err)
	}
	if err := g.Apply(cfg("90s", true)); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if res, err := get(h3); err != nil || res.ProtoMajor != 3 {
			t.Fatalf("request %d on the open QUIC connection after a reload: %v", i, err)
		}
	}
	if err := g.Apply(cfg("90s", false)); err != nil {
		t.Fatal(err)
	}
	h1 := testkit.HTTPSClient(t, g.Addr, testkit.HTTP1, s.ca.ClientTLS("site.test", nil))
	res, err := get(h1)
	if err != nil {
		t.Fatal(err)
	}
	if v := res.Header.Get("Alt-Svc"); v != "" {
		t.Errorf("Alt-Svc %q after http3 was turned off", v)
	}
	fresh := testkit.HTTPSClient(t, g.Addr, testkit.HTTP3, s.ca.ClientTLS("site.test", nil))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://site.test/", nil)
	if res, err := fresh.Do(req); err == nil {
		res.Body.Close()
		t.Error("a new HTTP/3 connection succeeded after http3 was turned off")
	}
}

// TestAltSvcOfTargetDoesNotReplaceHTTP3: on an HTTP/3 listener the
// advertisement names Gatehouse's port, whatever the target says.
func TestAltSvcOfTargetDoesNotReplaceHTTP3(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", testkit.Fixed(200, "ok", "Alt-Svc", `h3=":9999"`))
	s := newTLSSetup(t, b.URL)
	g := testkit.Start(t, `
listeners:
  - {address: "${LISTEN}", tls: {}, http3: true}
  - {address: "127.0.0.2:0", tls: {}}
`+tlsCerts+`
routes: [{upstream: "${B}"}]
`, s.vars)
	_, port, _ := net.SplitHostPort(g.Addr)
	for addr, want := range map[string]string{g.Addr: `h3=":` + port + `"; ma=86400`, g.AddrOf("127.0.0.2:0"): `h3=":9999"`} {
		c := testkit.HTTPSClient(t, addr, testkit.HTTP2, s.ca.ClientTLS("site.test", nil))
		res, err := c.Get("https://site.test/")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Values("Alt-Svc"); len(got) != 1 || got[0] != want {
			t.Errorf("%s: Alt-Svc %q, want only %q", addr, got, want)
		}
	}
}
