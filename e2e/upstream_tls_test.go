package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// seen is what an upstream TLS target noticed about one request.
type seen struct {
	proto, sni, client, remote string
}

// tlsTarget is an HTTPS backend on loopback with a certificate from a test
// CA, offering HTTP/2 and HTTP/1.1 by ALPN and, if asked, requiring client
// certificates. It answers health probes itself and records every other
// request before running its handler.
type tlsTarget struct {
	URL string
	srv *httptest.Server

	mu   sync.Mutex
	reqs []seen
}

// targetOptions shape a tlsTarget.
type targetOptions struct {
	names    []string       // certificate names; default 127.0.0.1
	clientCA *x509.CertPool // require client certificates from it
	handler  http.Handler   // default: 200 "ok"
	h2c      bool           // no TLS: cleartext HTTP/2 only
}

func newTLSTarget(t *testing.T, ca *testkit.CA, o targetOptions) *tlsTarget {
	t.Helper()
	tt := &tlsTarget{}
	next := o.handler
	if next == nil {
		next = testkit.Fixed(200, "ok")
	}
	tt.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") == testkit.ProbeUserAgent {
			io.WriteString(w, "ok\n")
			return
		}
		s := seen{proto: r.Proto, remote: r.RemoteAddr}
		if r.TLS != nil {
			s.sni = r.TLS.ServerName
			if len(r.TLS.PeerCertificates) > 0 {
				s.client = r.TLS.PeerCertificates[0].Subject.CommonName
			}
		}
		tt.mu.Lock()
		tt.reqs = append(tt.reqs, s)
		tt.mu.Unlock()
		next.ServeHTTP(w, r)
	}))
	tt.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point of some tests
	if o.h2c {
		tt.srv.Config.Protocols = new(http.Protocols)
		tt.srv.Config.Protocols.SetUnencryptedHTTP2(true)
		tt.srv.Start()
		tt.URL = strings.Replace(tt.srv.URL, "http://", "h2c://", 1)
		t.Cleanup(tt.srv.Close)
		return tt
	}
	if o.names == nil {
		o.names = []string{"127.0.0.1"}
	}
	leaf := ca.Issue(o.names, testkit.LeafOptions{})
	tt.srv.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLS}, NextProtos: []string{"h2", "http/1.1"}}
	if o.clientCA != nil {
		tt.srv.TLS.ClientAuth = tls.RequireAndVerifyClientCert
		tt.srv.TLS.ClientCAs = o.clientCA
	}
	tt.srv.EnableHTTP2 = true
	tt.srv.StartTLS()
	tt.URL = tt.srv.URL
	t.Cleanup(tt.srv.Close)
	return tt
}

// last returns what the target saw of the last request.
func (tt *tlsTarget) last(t *testing.T) seen {
	t.Helper()
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if len(tt.reqs) == 0 {
		t.Fatal("the target received no request")
	}
	return tt.reqs[len(tt.reqs)-1]
}

func (tt *tlsTarget) hits() int {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return len(tt.reqs)
}

// upstreamYAML is one upstream "api" with target ${T} and the given tls
// block, routed for every request.
func upstreamYAML(tlsBlock string) string {
	return `
upstreams:
  api:
    targets: ["${T}"]
    tls: ` + tlsBlock + `
routes: [{upstream: api}]
`
}

// failedWith waits for the error log line of a 502 and returns its error.
func failedWith(t *testing.T, g *testkit.Gatehouse) string {
	t.Helper()
	return g.Logs.Wait(t, 5*time.Second, "request failed", "status", 502).Str("error")
}

// TestUpstreamHTTPS: an https target verified with a configured CA gets
// HTTP/2 by ALPN and the target's host as SNI... unless the CA is missing,
// which is a 502 whose log names the certificate error.
func TestUpstreamHTTPS(t *testing.T) {
	t.Parallel()
	ca := testkit.NewCA(t, "upstream CA")
	tt := newTLSTarget(t, ca, targetOptions{})

	g := testkit.Start(t, upstreamYAML(`{ca: "${CA}"}`), testkit.Vars{"T": tt.URL, "CA": ca.CertFile})
	res, body := g.Get("/x")
	if res.StatusCode != 200 || body != "ok" {
		t.Fatalf("got %d %q", res.StatusCode, body)
	}
	if s := tt.last(t); s.proto != "HTTP/2.0" || s.sni != "" {
		// Go sends no SNI for an IP address; the certificate is checked against it.
		t.Errorf("target saw %+v, want HTTP/2.0 without SNI", s)
	}

	bad := testkit.Start(t, upstreamYAML(`{}`), testkit.Vars{"T": tt.URL})
	if res, _ := bad.Get("/x"); res.StatusCode != 502 {
		t.Errorf("without the CA: %d, want 502", res.StatusCode)
	}
	if msg := failedWith(t, bad); !strings.Contains(msg, "x509: certificate signed by unknown authority") {
		t.Errorf("log error %q does not name the certificate error", msg)
	}
}

// TestUpstreamServerName: a certificate for a DNS name, on a target
// addressed by IP, verifies with server_name, which is also sent as SNI.
func TestUpstreamServerName(t *testing.T) {
	t.Parallel()
	ca := testkit.NewCA(t, "upstream CA")
	tt := newTLSTarget(t, ca, targetOptions{names: []string{"api.internal"}})
	vars := testkit.Vars{"T": tt.URL, "CA": ca.CertFile}

	g := testkit.Start(t, upstreamYAML(`{ca: "${CA}", server_name: api.internal}`), vars)
	if res, body := g.Get("/"); res.StatusCode != 200 {
		t.Fatalf("with server_name: %d %q", res.StatusCode, body)
	}
	if s := tt.last(t); s.sni != "api.internal" {
		t.Errorf("SNI %q, want api.internal", s.sni)
	}

	bad := testkit.Start(t, upstreamYAML(`{ca: "${CA}"}`), vars)
	if res, _ := bad.Get("/"); res.StatusCode != 502 {
		t.Errorf("without server_name: %d, want 502", res.StatusCode)
	}
	if msg := failedWith(t, bad); !strings.Contains(msg, "x509: cannot validate certificate for 127.0.0.1") {
		t.Errorf("log error %q does not explain the name mismatch", msg)
	}
}

// TestUpstreamMutualTLS: a target requiring client certificates accepts
// Gatehouse's tls.cert and refuses a Gatehouse without one (502).
func TestUpstreamMutualTLS(t *testing.T) {
	t.Parallel()
	ca := testkit.NewCA(t, "upstream CA")
	clients := testkit.NewCA(t, "client CA")
	tt := newTLSTarget(t, ca, targetOptions{clientCA: clients.Pool})
	cert := clients.Issue([]string{"gatehouse"}, testkit.LeafOptions{Client: true})
	vars := testkit.Vars{"T": tt.URL, "CA": ca.CertFile, "CERT": cert.CertFile, "KEY": cert.KeyFile}

	g := testkit.Start(t, upstreamYAML(`{ca: "${CA}", cert: "${CERT}", key: "${KEY}"}`), vars)
	if res, body := g.Get("/"); res.StatusCode != 200 {
		t.Fatalf("with a client certificate: %d %q", res.StatusCode, body)
	}
	if s := tt.last(t); s.client != "gatehouse" {
		t.Errorf("target saw client certificate %q, want gatehouse", s.client)
	}

	bad := testkit.Start(t, upstreamYAML(`{ca: "${CA}"}`), vars)
	before := tt.hits()
	if res, _ := bad.Get("/"); res.StatusCode != 502 {
		t.Errorf("without a client certificate: %d, want 502", res.StatusCode)
	}
	// TLS 1.3 refuses the client after the handshake; net/http's HTTP/2
	// client then loses the alert, so Gatehouse explains.
	if msg := failedWith(t, bad); !strings.Contains(msg, "certificate") {
		t.Errorf("log error %q does not point at the client certificate", msg)
	}
	if tt.hits() != before {
		t.Error("a request without a client certificate reached the handler")
	}
}

// TestUpstreamInsecureSkipVerify works with any certificate and warns.
func TestUpstreamInsecureSkipVerify(t *testing.T) {
	t.Parallel()
	tt := newTLSTarget(t, testkit.NewCA(t, "unknown CA"), targetOptions{})
	g := testkit.Start(t, upstreamYAML(`{insecure_skip_verify: true}`), testkit.Vars{"T": tt.URL})
	if res, body := g.Get("/"); res.StatusCode != 200 {
		t.Fatalf("got %d %q", res.StatusCode, body)
	}
	e := g.Logs.Wait(t, time.Second, "upstream api: TLS certificate verification is OFF (insecure_skip_verify); anyone on the path can impersonate the target")
	if e.Str("level") != "WARN" {
		t.Errorf("warning logged at %q", e.Str("level"))
	}
}

// TestUpstreamH2C: h2c targets get cleartext HTTP/2 with prior knowledge.
func TestUpstreamH2C(t *testing.T) {
	t.Parallel()
	tt := newTLSTarget(t, nil, targetOptions{h2c: true})
	g := testkit.Start(t, `routes: [{upstream: "${T}"}]`, testkit.Vars{"T": tt.URL})
	if res, body := g.Get("/"); res.StatusCode != 200 || body != "ok" {
		t.Fatalf("got %d %q", res.StatusCode, body)
	}
	if s := tt.last(t); s.proto != "HTTP/2.0" {
		t.Errorf("target saw %s, want HTTP/2.0", s.proto)
	}
}

// TestUpstreamHTTPSWebSocket: an upgrade to an https target that offers
// HTTP/2 goes over HTTP/1.1, the only protocol with Upgrade.
func TestUpstreamHTTPSWebSocket(t *testing.T) {
	t.Parallel()
	ca := testkit.NewCA(t, "upstream CA")
	tt := newTLSTarget(t, ca, targetOptions{handler: testkit.WebSocketEcho()})
	g := testkit.Start(t, upstreamYAML(`{ca: "${CA}"}`), testkit.Vars{"T": tt.URL, "CA": ca.CertFile})
	c, res := testkit.DialWebSocket(t, "ws://"+g.Addr+"/ws", nil)
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake status %d", res.StatusCode)
	}
	for range 3 {
		echoOnce(t, c, websocket.MessageText, []byte("over tls"))
	}
	c.Close(websocket.StatusNormalClosure, "")
	if s := tt.last(t); s.proto != "HTTP/1.1" {
		t.Errorf("the upgrade went over %s", s.proto)
	}
}

// TestUpstreamHTTPSHealthAndRetry: active probes use the upstream's TLS
// settings, so the target whose certificate does not verify is marked down
// and the good one stays up; before that, requests that hit the bad one
// are retried on the good one (a failed handshake sent nothing).
func TestUpstreamHTTPSHealthAndRetry(t *testing.T) {
	t.Parallel()
	ca := testkit.NewCA(t, "upstream CA")
	good := newTLSTarget(t, ca, targetOptions{})
	bad := newTLSTarget(t, testkit.NewCA(t, "other CA"), targetOptions{})
	vars := testkit.Vars{"GOOD": good.URL, "BAD": bad.URL, "CA": ca.CertFile}
	const pool = `
upstreams:
  api:
    targets: ["${GOOD}", "${BAD}"]
    tls: {ca: "${CA}"}
`
	g := testkit.Start(t, pool+`routes: [{upstream: api}]`, vars)
	for i := range 6 {
		if res, body := g.Get("/"); res.StatusCode != 200 {
			t.Fatalf("request %d: %d %q", i, res.StatusCode, body)
		}
	}
	if good.hits() != 6 {
		t.Errorf("good target served %d of 6", good.hits())
	}

	h := testkit.Start(t, pool+`    health: {active: {interval: 1s, timeout: 1s, unhealthy_threshold: 1}}
routes: [{upstream: api}]
`, vars)
	e := h.Logs.Wait(t, 5*time.Second, "upstream target down", "target", bad.URL)
	if !strings.Contains(e.Str("reason"), "certificate") {
		t.Errorf("down reason %q does not name the certificate", e.Str("reason"))
	}
	if m := h.Logs.Match("upstream target down", "target", good.URL); len(m) != 0 {
		t.Errorf("the good target was marked down: %v", m)
	}
}

// TestUpstreamTLSReload: a reload with unchanged TLS files keeps the pooled
// connection to the target; changed file contents make a new one.
func TestUpstreamTLSReload(t *testing.T) {
	t.Parallel()
	ca := testkit.NewCA(t, "upstream CA")
	tt := newTLSTarget(t, ca, targetOptions{})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pem, err := os.ReadFile(ca.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	yaml := upstreamYAML(`{ca: "${CA}"}`)
	g := testkit.Start(t, yaml, testkit.Vars{"T": tt.URL, "CA": caFile})
	conn := func() string {
		t.Helper()
		if res, _ := g.Get("/"); res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		return tt.last(t).remote
	}
	first := conn()
	if err := g.Apply(yaml); err != nil {
		t.Fatal(err)
	}
	if again := conn(); again != first {
		t.Errorf("unchanged reload: new connection %s, had %s", again, first)
	}
	other, _ := os.ReadFile(testkit.NewCA(t, "second CA").CertFile)
	if err := os.WriteFile(caFile, append(pem, other...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := g.Apply(yaml); err != nil {
		t.Fatal(err)
	}
	if changed := conn(); changed == first {
		t.Errorf("CA file changed, but the connection %s was kept", changed)
	}
}
