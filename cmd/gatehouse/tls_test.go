package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// sni is the name the test certificates are for and clients ask for.
const sni = "site.test"

// tlsSite is a config with one HTTPS listener serving one certificate and
// proxying everything to target.
type tlsSite struct {
	addr      string
	cert, key string
	http3     bool
	target    *backend
}

func (s tlsSite) String() string {
	return fmt.Sprintf(`listeners:
  - name: web
    address: %s
    tls: {}
    http3: %t
log:
  access: false
limits:
  drain_timeout: 10s
tls:
  certificates:
    - {cert: %q, key: %q}
upstreams:
  pool:
    targets: [%s]
routes:
  - name: main
    match: {path: /}
    upstream: pool
`, s.addr, s.http3, s.cert, s.key, s.target.url)
}

// dialLeaf makes a TLS handshake with addr for sni, trusting pool, and
// returns the certificate served.
func dialLeaf(addr string, pool *x509.CertPool) (*x509.Certificate, error) {
	d := &net.Dialer{Timeout: waitLimit}
	c, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{ServerName: sni, RootCAs: pool})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0], nil
}

// wantLeaf requires a new connection to addr to be served want.
func wantLeaf(t *testing.T, addr string, pool *x509.CertPool, want *testkit.Leaf, when string) {
	t.Helper()
	got, err := dialLeaf(addr, pool)
	if err != nil {
		t.Fatalf("%s: TLS handshake: %v", when, err)
	}
	if got.SerialNumber.Cmp(want.Cert.SerialNumber) != 0 {
		t.Fatalf("%s: new connections get serial %v, want %v", when, got.SerialNumber, want.Cert.SerialNumber)
	}
}

// h2Conn is an HTTP/2 client that counts its TLS connections, so a test
// knows its requests shared one.
type h2Conn struct {
	c     *http.Client
	dials atomic.Int32
}

func newH2Conn(t *testing.T, addr string, pool *x509.CertPool) *h2Conn {
	h := &h2Conn{}
	d := &tls.Dialer{Config: &tls.Config{ServerName: sni, RootCAs: pool, NextProtos: []string{"h2"}}}
	tr := &http.Transport{
		DialTLSContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			h.dials.Add(1)
			return d.DialContext(ctx, "tcp", addr)
		},
		Protocols: new(http.Protocols),
	}
	tr.Protocols.SetHTTP2(true)
	t.Cleanup(tr.CloseIdleConnections)
	h.c = &http.Client{Transport: tr, Timeout: waitLimit}
	return h
}

// get requires GET /hello over HTTP/2 to be answered by be on the one
// connection the client ever made, which was served certificate leaf.
func (h *h2Conn) get(t *testing.T, be *backend, leaf *testkit.Leaf, when string) {
	t.Helper()
	res, err := h.c.Get("https://" + sni + "/hello")
	if err != nil {
		t.Fatalf("%s: HTTP/2 connection opened earlier: %v", when, err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != 200 || string(body) != "hello from "+be.name+"\n" || res.ProtoMajor != 2 {
		t.Fatalf("%s: HTTP/2 connection opened earlier: %s %d %q %v", when, res.Proto, res.StatusCode, body, err)
	}
	if n := h.dials.Load(); n != 1 {
		t.Fatalf("%s: the HTTP/2 client connected %d times, want its first connection kept", when, n)
	}
	if s := res.TLS.PeerCertificates[0].SerialNumber; s.Cmp(leaf.Cert.SerialNumber) != 0 {
		t.Fatalf("%s: the HTTP/2 connection has serial %v, want %v from its handshake", when, s, leaf.Cert.SerialNumber)
	}
}

// wantHTTPS requires GET https://site.test/hello on a new HTTP/1.1
// connection to be answered by be.
func wantHTTPS(t *testing.T, addr string, ca *testkit.CA, be *backend, when string) {
	t.Helper()
	c := testkit.HTTPSClient(t, addr, testkit.HTTP1, ca.ClientTLS(sni, nil))
	res, err := c.Get("https://" + sni + "/hello")
	if err != nil {
		t.Fatalf("%s: HTTPS: %v", when, err)
	}
	defer res.Body.Close()
	c.CloseIdleConnections()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || string(body) != "hello from "+be.name+"\n" {
		t.Fatalf("%s: HTTPS: %d %q", when, res.StatusCode, body)
	}
}

// TestValidateReportsBadTLSFiles: validate names each bad file (an expired
// certificate, a key that belongs to another certificate, a CA bundle that
// cannot be read) at its file:line:col and exits 1; run refuses the file.
func TestValidateReportsBadTLSFiles(t *testing.T) {
	dir := t.TempDir()
	ca := testkit.NewCA(t, "validate")
	expired := ca.Issue([]string{sni}, testkit.LeafOptions{
		NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	good, other := ca.Issue([]string{sni}, testkit.LeafOptions{}), ca.Issue([]string{"other.test"}, testkit.LeafOptions{})
	// A directory: root reads any file whatever its mode, so a mode cannot
	// make one unreadable to the test.
	caDir := filepath.Join(dir, "ca.pem")
	if err := os.Mkdir(caDir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "bad.yaml")
	writeFile(t, path, fmt.Sprintf(`listeners:
  - address: 127.0.0.1:0
    tls:
      client_auth: {mode: require, ca: %q}
tls:
  certificates:
    - {cert: %q, key: %q}
    - {cert: %q, key: %q}
routes:
  - respond: {status: 204}
`, caDir, expired.CertFile, expired.KeyFile, good.CertFile, other.KeyFile))

	want := path + ":4:40: listeners[0].tls.client_auth.ca: cannot read CA bundle: read " + caDir + ": is a directory\n" +
		path + ":7:7: tls.certificates[0]: certificate " + expired.CertFile + " expired on " +
		expired.Cert.NotAfter.UTC().Format(time.DateOnly) + "; renew it\n" +
		path + ":8:7: tls.certificates[1]: key file " + other.KeyFile + " does not match certificate file " +
		good.CertFile + " (are the files from the same renewal?)\n"
	stdout, stderr, code := runToEnd(t, "validate", "-config", path)
	if code != 1 || stdout != "" || stderr != want {
		t.Errorf("validate: exit %d, stdout %q, stderr:\n%s\nwant exit 1 and stderr:\n%s", code, stdout, stderr, want)
	}
	_, stderr, code = runToEnd(t, "run", "-config", path)
	if code != 1 || stderr != "gatehouse: "+path+" is not valid:\n"+want {
		t.Errorf("run: exit %d, stderr:\n%s\nwant exit 1 and the same problems", code, stderr)
	}
}

// TestCertificateReloadBySIGHUP: SIGHUP with a config naming another
// certificate serves it to new connections while an HTTP/2 connection
// opened before goes on working; a config naming an expired certificate
// is refused and the certificate in use keeps being served.
func TestCertificateReloadBySIGHUP(t *testing.T) {
	dir := t.TempDir()
	be := newBackend(t, "blue")
	ca := testkit.NewCA(t, "reload")
	a, b := ca.Issue([]string{sni}, testkit.LeafOptions{}), ca.Issue([]string{sni}, testkit.LeafOptions{})
	expired := ca.Issue([]string{sni}, testkit.LeafOptions{
		NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	site := func(addr string, l *testkit.Leaf) string {
		return tlsSite{addr: addr, cert: l.CertFile, key: l.KeyFile, target: be}.String()
	}
	p, addr := startRun(t, dir, func(a2 string) string { return site(a2, a) })
	path := filepath.Join(dir, "gatehouse.yaml")
	wantLeaf(t, addr, ca.Pool, a, "at start")
	wantHTTPS(t, addr, ca, be, "at start")
	h2 := newH2Conn(t, addr, ca.Pool)
	h2.get(t, be, a, "at start")

	writeFile(t, path, site(addr, b))
	p.reload()
	wantLeaf(t, addr, ca.Pool, b, "after the reload to certificate B")
	wantHTTPS(t, addr, ca, be, "after the reload to certificate B")
	h2.get(t, be, a, "after the reload to certificate B")

	writeFile(t, path, site(addr, expired))
	refused := "reload refused; the previous configuration keeps serving"
	n := p.count(refused)
	p.signal(sighup)
	rec := p.waitMsg(refused, n+1)
	if e := rec.str("error"); !strings.Contains(e, "certificate "+expired.CertFile+" expired on") || rec.str("reason") != "SIGHUP" {
		t.Errorf("refusal: reason %q, error %q; want SIGHUP and the expired file named", rec.str("reason"), e)
	}
	wantLeaf(t, addr, ca.Pool, b, "after the refused reload")
	wantHTTPS(t, addr, ca, be, "after the refused reload")
	h2.get(t, be, a, "after the refused reload")
	if n := p.count("configuration applied"); n != 2 {
		t.Errorf("%d configurations applied, want 2 (start and the first reload)", n)
	}
	p.stop()
}

// TestCertificateFilesReplacedOnDisk: certificate files renamed over the
// served ones are picked up without a signal, over TCP and HTTP/3, while
// an HTTP/2 connection opened before goes on working; files that cannot
// be used are reported and the certificate in use stays.
func TestCertificateFilesReplacedOnDisk(t *testing.T) {
	dir := t.TempDir()
	be := newBackend(t, "blue")
	ca := testkit.NewCA(t, "watch")
	a, b := ca.Issue([]string{sni}, testkit.LeafOptions{}), ca.Issue([]string{sni}, testkit.LeafOptions{})
	expired := ca.Issue([]string{sni}, testkit.LeafOptions{
		NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	certs := filepath.Join(dir, "certs")
	if err := os.Mkdir(certs, 0o755); err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(certs, "site.pem"), filepath.Join(certs, "site.key")
	install := func(l *testkit.Leaf) { // as certificate tools do: write aside, rename over
		replaceFile(t, certPath, readFile(t, l.CertFile))
		replaceFile(t, keyPath, readFile(t, l.KeyFile))
	}
	install(a)
	p, addr := startRun(t, dir, func(a2 string) string {
		return tlsSite{addr: a2, cert: certPath, key: keyPath, http3: true, target: be}.String()
	})
	wantLeaf(t, addr, ca.Pool, a, "at start")
	wantH3Leaf(t, addr, ca, a, "at start")
	h2 := newH2Conn(t, addr, ca.Pool)
	h2.get(t, be, a, "at start")

	install(b)
	changed := time.Now()
	waitLeaf(t, addr, ca.Pool, b, 5*time.Second)
	t.Logf("new connections got the replaced certificate %v after the rename", time.Since(changed).Round(time.Millisecond))
	p.waitFor("certificate reloaded", "cert", certPath)
	wantHTTPS(t, addr, ca, be, "after the files changed")
	wantH3Leaf(t, addr, ca, b, "after the files changed")
	h2.get(t, be, a, "after the files changed")

	install(expired)
	p.waitFor("certificate files changed but cannot be used; still serving the previous certificate", "cert", certPath)
	wantLeaf(t, addr, ca.Pool, b, "after expired files were installed")
	if n := p.count("configuration applied"); n != 1 {
		t.Errorf("%d configurations applied, want 1: file changes are not config reloads", n)
	}
	p.stop()
}

// waitLeaf polls until new connections to addr are served want.
func waitLeaf(t *testing.T, addr string, pool *x509.CertPool, want *testkit.Leaf, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		got, err := dialLeaf(addr, pool)
		if err == nil && got.SerialNumber.Cmp(want.Cert.SerialNumber) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("new connections not served serial %v within %v: got %v, error %v", want.Cert.SerialNumber, limit, got, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wantH3Leaf requires a new HTTP/3 connection to addr to be served want.
func wantH3Leaf(t *testing.T, addr string, ca *testkit.CA, want *testkit.Leaf, when string) {
	t.Helper()
	c := testkit.HTTPSClient(t, addr, testkit.HTTP3, ca.ClientTLS(sni, nil))
	res, err := c.Get("https://" + sni + "/hello")
	if err != nil {
		t.Fatalf("%s: HTTP/3: %v", when, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.ProtoMajor != 3 || res.TLS == nil || res.TLS.PeerCertificates[0].SerialNumber.Cmp(want.Cert.SerialNumber) != 0 {
		t.Fatalf("%s: HTTP/3 answered %s with TLS %v, want serial %v", when, res.Proto, res.TLS != nil, want.Cert.SerialNumber)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestShutdownWithHTTP3: SIGTERM with HTTP/3 configured lets an HTTP/3
// request in flight finish and exits 0 right after it, with an idle QUIC
// connection still open and well before the 10s drain timeout.
func TestShutdownWithHTTP3(t *testing.T) {
	dir := t.TempDir()
	be := newBackend(t, "slow")
	ca := testkit.NewCA(t, "h3")
	leaf := ca.Issue([]string{sni}, testkit.LeafOptions{})
	p, addr := startRun(t, dir, func(a string) string {
		return tlsSite{addr: a, cert: leaf.CertFile, key: leaf.KeyFile, http3: true, target: be}.String()
	})
	h3 := testkit.HTTPSClient(t, addr, testkit.HTTP3, ca.ClientTLS(sni, nil))
	idle := testkit.HTTPSClient(t, addr, testkit.HTTP3, ca.ClientTLS(sni, nil))
	for _, c := range []*http.Client{h3, idle} {
		res, err := c.Get("https://" + sni + "/hello")
		if err != nil {
			t.Fatalf("HTTP/3: %v", err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || res.ProtoMajor != 3 {
			t.Fatalf("HTTP/3: %s %d", res.Proto, res.StatusCode)
		}
	}

	done := make(chan result, 1)
	go func() {
		res, err := h3.Get("https://" + sni + "/slow?hold=1s")
		if err != nil {
			done <- result{err: err, at: time.Now()}
			return
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		done <- result{status: res.StatusCode, body: string(body), err: err, at: time.Now()}
	}()
	select {
	case <-be.arrived:
	case r := <-done:
		t.Fatalf("HTTP/3 request ended before reaching the backend: %+v", r)
	case <-time.After(waitLimit):
		t.Fatalf("HTTP/3 request did not reach the backend within %v", waitLimit)
	}
	sent := time.Now()
	p.signal(syscall.SIGTERM)
	r := awaitResult(t, done)
	if r.err != nil || r.status != 200 || r.body != "slow done\n" {
		t.Errorf("HTTP/3 request in flight at SIGTERM: %d %q %v; want 200 %q", r.status, r.body, r.err, "slow done\n")
	}
	if code := p.waitExit(waitLimit); code != 0 {
		t.Fatalf("gatehouse %s after SIGTERM, want exit code 0; output:\n%s", describeExit(code), p.output())
	}
	took := p.exitTime().Sub(sent)
	t.Logf("exited %v after SIGTERM; the request ended after %v", took.Round(time.Millisecond), r.at.Sub(sent).Round(time.Millisecond))
	if took > 5*time.Second {
		t.Errorf("exited %v after SIGTERM, want right after the in-flight request, well before the 10s drain timeout", took)
	}
	if out := p.output(); strings.Contains(out, "drain timed out") {
		t.Errorf("want a clean stop without a drain timeout; output:\n%s", out)
	}
}
