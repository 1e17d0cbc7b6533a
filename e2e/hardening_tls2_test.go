package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestACMETLSALPNWithRequiredClientCert: a CA validating TLS-ALPN-01
// presents no client certificate, so a listener requiring one must still
// complete the challenge handshake; before, the handshake demanded a
// certificate, which under TLS 1.2 fails the validation (under TLS 1.3 the
// validator's side of the handshake ends before the server checks, which
// hid it). Once obtained, the certificate is still only served to clients
// with a verified certificate.
func TestACMETLSALPNWithRequiredClientCert(t *testing.T) {
	t.Parallel()
	for _, version := range []string{"1.2", "1.3"} {
		t.Run("TLS"+version, func(t *testing.T) {
			t.Parallel()
			s := newACMESetup(t, "mtls"+version[2:], 0)
			client := testkit.NewCA(t, "acme clients")
			s.vars["CLIENT_CA"] = client.CertFile
			s.vars["V"] = version
			s.start(t, `
listeners:
  - {address: "${LISTEN}"}
  - {address: "${TLS}", tls: {max_version: "${V}", client_auth: {mode: require, ca: "${CLIENT_CA}"}}}
tls:
  acme:
    domains: ["${SITE}"]
    directory: "${DIR}"
    ca_root: "${ROOT}"
    storage: "${STORAGE}"
    challenges: [tls-alpn-01]
routes: [{upstream: "${B}"}]
`)
			leaf := client.Issue([]string{"client"}, testkit.LeafOptions{Client: true})
			conf := &tls.Config{RootCAs: s.pebble.IssuerPool, Certificates: []tls.Certificate{leaf.TLS}}
			c := testkit.HTTPSClient(t, s.vars["TLS"], testkit.HTTP1, conf)
			deadline := time.Now().Add(acmeWait)
			for {
				res, err := c.Get("https://" + s.site + "/")
				if err == nil {
					res.Body.Close()
					if res.StatusCode != 200 {
						t.Fatalf("status %d", res.StatusCode)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no certificate after %s: %v", acmeWait, err)
				}
				time.Sleep(100 * time.Millisecond)
			}
			// Without a client certificate, still refused.
			if _, _, _, err := s.httpsGet(t, s.site, "/"); err == nil {
				t.Error("a client without a certificate got through")
			}
		})
	}
}

// TestReloadStormUnderLoad: reloads that swap the certificate, change the
// listener's settings (a new http.Server on the same socket) and change
// routes, applied every few milliseconds while HTTP/1.1, HTTP/2, HTTP/3
// and h2c clients send requests, fail none of them.
func TestReloadStormUnderLoad(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", testkit.Echo())
	s := newTLSSetup(t, b.URL)
	other := s.ca.Issue([]string{"site.test", "*.site.test"}, testkit.LeafOptions{})
	cfg := func(i int) string {
		cert, key := "${CERT}", "${KEY}"
		if i%2 == 1 {
			cert, key = other.CertFile, other.KeyFile
		}
		return fmt.Sprintf(`
limits: {drain_timeout: 300ms}
listeners:
  - {address: "${LISTEN}", http3: true, tls: {}, idle_timeout: %ds}
  - {address: "127.0.0.2:0", h2c: true, idle_timeout: %ds}
tls:
  certificates: [{cert: "%s", key: "%s"}]
routes: [{upstream: "${B}", response_headers: {set: {X-Gen: "%d"}}}]
`, 30+i%3, 30+i%5, cert, key, i)
	}
	g := testkit.Start(t, cfg(0), s.vars)
	plain := g.AddrOf("127.0.0.2:0")
	clients := map[string]*http.Client{
		"http1": testkit.HTTPSClient(t, g.Addr, testkit.HTTP1, s.ca.ClientTLS("site.test", nil)),
		"http2": testkit.HTTPSClient(t, g.Addr, testkit.HTTP2, s.ca.ClientTLS("site.test", nil)),
		"http3": testkit.HTTPSClient(t, g.Addr, testkit.HTTP3, s.ca.ClientTLS("site.test", nil)),
		"h2c":   testkit.HTTPSClient(t, plain, testkit.H2C, nil),
		"plain": testkit.HTTPSClient(t, plain, testkit.HTTP1, nil),
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := map[string][]string{}
	counts := map[string]int{}
	for name, c := range clients {
		url := "https://site.test/x"
		if name == "h2c" || name == "plain" {
			url = "http://other.test/x"
		}
		for range 3 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					res, err := c.Get(url)
					var msg string
					if err != nil {
						msg = err.Error()
					} else {
						io.Copy(io.Discard, res.Body)
						res.Body.Close()
						if res.StatusCode != 200 {
							msg = res.Status
						}
					}
					mu.Lock()
					counts[name]++
					if msg != "" {
						failed[name] = append(failed[name], msg)
					}
					mu.Unlock()
				}
			})
		}
	}
	for i := 1; i <= 60; i++ {
		if err := g.Apply(cfg(i)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	for name := range clients {
		if len(failed[name]) > 0 {
			t.Errorf("%s: %d of %d requests failed, first: %s", name, len(failed[name]), counts[name], failed[name][0])
		} else {
			t.Logf("%s: %d requests", name, counts[name])
		}
	}
}

// TestListenerSwitchesPlainAndTLS: one address turned from plain HTTP to
// TLS with HTTP/3 and back, several times, serves each time what it is
// configured for: the socket is kept, the UDP socket comes and goes.
func TestListenerSwitchesPlainAndTLS(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", testkit.Echo())
	s := newTLSSetup(t, b.URL)
	plain := `
limits: {drain_timeout: 100ms}
listeners: [{address: "${LISTEN}", h2c: true}]
routes: [{upstream: "${B}"}]
`
	secure := strings.Replace(plain, `h2c: true`, `http3: true, tls: {}`, 1) + tlsCerts
	g := testkit.Start(t, plain, s.vars)
	get := func(p testkit.Protocol, url string) error {
		var conf *tls.Config
		if p != testkit.H2C && !strings.HasPrefix(url, "http:") {
			conf = s.ca.ClientTLS("site.test", nil)
		}
		c := testkit.HTTPSClient(t, g.Addr, p, conf)
		ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		res, err := c.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			return fmt.Errorf("status %d", res.StatusCode)
		}
		return nil
	}
	for round := range 3 {
		for _, p := range []testkit.Protocol{testkit.HTTP1, testkit.H2C} {
			if err := get(p, "http://site.test/"); err != nil {
				t.Fatalf("round %d, plain, protocol %v: %v", round, p, err)
			}
		}
		if err := g.Apply(secure); err != nil {
			t.Fatal(err)
		}
		for _, p := range []testkit.Protocol{testkit.HTTP1, testkit.HTTP2, testkit.HTTP3} {
			if err := get(p, "https://site.test/"); err != nil {
				t.Fatalf("round %d, TLS, protocol %v: %v", round, p, err)
			}
		}
		if err := get(testkit.HTTP1, "http://site.test/"); err == nil {
			t.Errorf("round %d: plain HTTP answered 200 on the TLS listener", round)
		}
		if err := g.Apply(plain); err != nil {
			t.Fatal(err)
		}
		if err := get(testkit.HTTP3, "https://site.test/"); err == nil {
			t.Errorf("round %d: HTTP/3 still served on the plain listener", round)
		}
	}
}

// TestACMEHTTPChallengeBeforeRoutes: the HTTP-01 challenge is answered
// on a plain listener that redirects to HTTPS, whatever the routes would
// do with /.well-known/acme-challenge/: a static route covering it, a
// route requiring a client certificate, a default route.
func TestACMEHTTPChallengeBeforeRoutes(t *testing.T) {
	t.Parallel()
	s := newACMESetup(t, "routes", 0)
	s.vars["CLIENT_CA"] = testkit.NewCA(t, "acme clients").CertFile
	s.vars["ROOTDIR"] = assetsDir(t, map[string]string{".well-known/acme-challenge/x": "static"})
	g := s.start(t, `
listeners:
  - {address: "${LISTEN}", redirect_https: true}
  - {address: "${TLS}", tls: {client_auth: {mode: request, ca: "${CLIENT_CA}"}}}
tls:
  acme:
    domains: ["${SITE}"]
    directory: "${DIR}"
    ca_root: "${ROOT}"
    storage: "${STORAGE}"
    challenges: [http-01]
routes:
  - {match: {path: /.well-known/acme-challenge}, static: {root: "${ROOTDIR}"}}
  - {match: {path: /.well-known}, upstream: "${B}", client_auth: {ca: "${CLIENT_CA}"}}
  - {match: {path: /hello}, upstream: "${B}"}
default_route: {respond: {status: 404, body: nothing here}}
`)
	s.waitHTTPS(t, s.site, acmeWait, func(*x509.Certificate) bool { return true })
	if !strings.Contains(s.pebble.Log(), "validate w/ HTTP") {
		t.Error("Pebble did not validate over HTTP")
	}
	// No challenge pending now: the path is routed, not redirected.
	if res, body := g.Get("/.well-known/acme-challenge/x", "Host", s.site); res.StatusCode != 200 || body != "static" {
		t.Errorf("challenge path without a pending challenge: %d %q, want the static file", res.StatusCode, body)
	}
}

// TestHTTP3OnSamePortOfTwoHosts: two TLS listeners with HTTP/3 on one port
// of two loopback addresses, and one named "localhost", each serve
// HTTP/3 on the UDP port of their own address.
func TestHTTP3OnSamePortOfTwoHosts(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", testkit.Echo())
	s := newTLSSetup(t, b.URL)
	port := itoa(portOf(t, freeAddr(t)))
	s.vars["P"] = port
	g := testkit.Start(t, `
listeners:
  - {address: "127.0.0.1:${P}", tls: {}, http3: true}
  - {address: "127.0.0.2:${P}", tls: {}, http3: true}
  - {address: "localhost:0", tls: {}, http3: true}
`+tlsCerts+`
routes: [{upstream: "${B}"}]
`, s.vars)
	for _, addr := range []string{"127.0.0.1:" + port, "127.0.0.2:" + port, g.AddrOf("localhost:0")} {
		c := testkit.HTTPSClient(t, addr, testkit.HTTP3, s.ca.ClientTLS("site.test", nil))
		res, err := c.Get("https://site.test/")
		if err != nil {
			t.Errorf("%s: %v", addr, err)
			continue
		}
		res.Body.Close()
		if want := `h3=":` + portOfString(addr) + `"; ma=86400`; res.Header.Get("Alt-Svc") != want {
			t.Errorf("%s: Alt-Svc %q, want %q", addr, res.Header.Get("Alt-Svc"), want)
		}
	}
}

func portOfString(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}
