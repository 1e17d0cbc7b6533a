package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// acmeWait bounds how long obtaining a certificate from Pebble may take.
const acmeWait = 60 * time.Second

// acmeSetup is a Pebble and the variables of an ACME config using it:
// SITE and WWW (the domains), DIR, ROOT (Pebble's HTTPS root), STORAGE,
// B (the backend) and TLS, a fixed loopback address for the TLS listener
// (Pebble must be told the port, and only one listener per config may use
// port 0).
type acmeSetup struct {
	pebble    *testkit.Pebble
	b         *testkit.Backend
	vars      testkit.Vars
	site, www string
}

// newACMESetup names its domains after name (none: site.test): certmagic
// keeps pending challenges in memory per process by domain, so tests
// running in parallel must not share domains.
func newACMESetup(t *testing.T, name string, validity time.Duration) *acmeSetup {
	t.Helper()
	p := testkit.NewPebble(t, validity)
	if u, err := url.Parse(p.Directory); err != nil || !net.ParseIP(u.Hostname()).IsLoopback() {
		t.Fatalf("ACME directory %q is not on loopback; no test may reach a real CA", p.Directory)
	}
	b := testkit.NewBackend(t, "app", testkit.Echo())
	site := "site.test"
	if name != "" {
		site = name + "." + site
	}
	return &acmeSetup{pebble: p, b: b, site: site, www: "www." + site, vars: testkit.Vars{
		"SITE": site, "WWW": "www." + site, "DIR": p.Directory, "ROOT": p.CARootFile,
		"STORAGE": t.TempDir(), "B": b.URL, "TLS": freeAddr(t),
	}}
}

// acmeYAML is a plain and a TLS listener proxying to B, with ACME for
// SITE and WWW; extra is added to the tls.acme section.
func acmeYAML(extra string) string {
	return `
listeners:
  - {address: "${LISTEN}"}
  - {address: "${TLS}", tls: {}}
tls:
  acme:
    domains: ["${SITE}", "${WWW}"]
    email: ops@site.test
    directory: "${DIR}"
    ca_root: "${ROOT}"
    storage: "${STORAGE}"
` + extra + `
routes: [{upstream: "${B}"}]
`
}

// start runs Gatehouse with yaml and lets Pebble validate against its
// listeners.
func (s *acmeSetup) start(t *testing.T, yaml string) *testkit.Gatehouse {
	t.Helper()
	g := testkit.Start(t, yaml, s.vars)
	s.pebble.Start(portOf(t, g.Addr), portOf(t, s.vars["TLS"]))
	return g
}

// httpsGet fetches https://host/path from the TLS listener, trusting only
// Pebble's issuing root, and returns the leaf and body; err is the
// transport error (no certificate yet, typically).
func (s *acmeSetup) httpsGet(t *testing.T, host, path string) (*x509.Certificate, string, int, error) {
	t.Helper()
	c := testkit.HTTPSClient(t, s.vars["TLS"], testkit.HTTP1, &tls.Config{RootCAs: s.pebble.IssuerPool})
	res, err := c.Get("https://" + host + path)
	if err != nil {
		return nil, "", 0, err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.TLS.PeerCertificates[0], string(body), res.StatusCode, nil
}

// waitHTTPS polls until an HTTPS request for host reaches the backend
// with a certificate that ok accepts (nil: any), and returns it.
func (s *acmeSetup) waitHTTPS(t *testing.T, host string, timeout time.Duration, ok func(*x509.Certificate) bool) *x509.Certificate {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		leaf, body, status, err := s.httpsGet(t, host, "/hello")
		if err == nil && status == 200 && body == "app" && (ok == nil || ok(leaf)) {
			return leaf
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: https://%s/hello: status %d, body %q, error %v", timeout, host, status, body, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestACMEObtainsCertificates gets certificates for two names from Pebble
// with the default challenges, and serves HTTPS with them to a client
// trusting only Pebble's root; the plain listener redirects to HTTPS.
func TestACMEObtainsCertificates(t *testing.T) {
	t.Parallel()
	s := newACMESetup(t, "", 0) // site.test and www.site.test
	g := s.start(t, acmeYAML(""))
	for _, host := range []string{s.site, s.www} {
		leaf := s.waitHTTPS(t, host, acmeWait, nil)
		if err := leaf.VerifyHostname(host); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	if got := s.b.Last().Header.Get("X-Forwarded-Proto"); got != "https" {
		t.Errorf("X-Forwarded-Proto %q, want https", got)
	}
	g.Logs.Wait(t, time.Second, "acme certificate obtained", "domain", s.site)
	if n := s.pebble.NewOrders(); n != 2 {
		t.Errorf("%d orders at the CA, want 2", n)
	}
	// The TLS listener is not on 443, so the redirect names its port.
	res, _ := g.Get("/page?q=1", "Host", s.site)
	want := fmt.Sprintf("https://%s:%d/page?q=1", s.site, portOf(t, s.vars["TLS"]))
	if res.StatusCode != 308 || res.Header.Get("Location") != want {
		t.Errorf("plain HTTP for %s: %d to %q, want 308 to %s", s.site, res.StatusCode, res.Header.Get("Location"), want)
	}
}

// TestACMEChallengeTypes obtains with only one challenge type at a time:
// http-01 on the plain listener, which still redirects everything else to
// HTTPS, and tls-alpn-01 on the TLS listener.
func TestACMEChallengeTypes(t *testing.T) {
	t.Parallel()
	for _, challenge := range []string{"http-01", "tls-alpn-01"} {
		t.Run(challenge, func(t *testing.T) {
			t.Parallel()
			s := newACMESetup(t, strings.Split(challenge, "-")[0], 0) // http or tls
			s.start(t, acmeYAML("    challenges: ["+challenge+"]\n"))
			s.waitHTTPS(t, s.site, acmeWait, nil)
			// Pebble logs HTTP validations only; a certificate without
			// one was validated by TLS-ALPN-01.
			if viaHTTP := strings.Contains(s.pebble.Log(), "validate w/ HTTP"); viaHTTP != (challenge == "http-01") {
				t.Errorf("with only %s, Pebble validated over HTTP: %v", challenge, viaHTTP)
			}
		})
	}
}

// TestACMERenewal serves a certificate valid for 30 s, checked every
// second, and then a renewed one (a new serial) without a restart or
// reload.
func TestACMERenewal(t *testing.T) {
	t.Parallel()
	s := newACMESetup(t, "renew", 30*time.Second)
	g := s.start(t, acmeYAML("    renew_check_interval: 1s\n"))
	first := s.waitHTTPS(t, s.site, acmeWait, nil)
	if life := first.NotAfter.Sub(first.NotBefore); life > time.Minute {
		t.Fatalf("certificate valid for %s, want Pebble's short validity", life)
	}
	s.waitHTTPS(t, s.site, 45*time.Second, func(c *x509.Certificate) bool {
		return c.SerialNumber.Cmp(first.SerialNumber) != 0
	})
	g.Logs.Wait(t, time.Second, "acme certificate renewed", "domain", s.site)
}

// TestACMESharedStorage runs two instances on one storage directory: the
// CA gets one order per name, and both serve the same certificate.
func TestACMESharedStorage(t *testing.T) {
	t.Parallel()
	s := newACMESetup(t, "shared", 0)
	other := *s
	other.vars = testkit.Vars{}
	for k, v := range s.vars {
		other.vars[k] = v
	}
	other.vars["TLS"] = freeAddr(t)
	// Pebble validates against the first instance only; it answers the
	// second one's challenges from the shared storage.
	s.start(t, acmeYAML(""))
	testkit.Start(t, acmeYAML(""), other.vars)
	a := s.waitHTTPS(t, s.site, acmeWait, nil)
	b := other.waitHTTPS(t, s.site, acmeWait, nil)
	if !a.Equal(b) {
		t.Errorf("instances serve different certificates: serial %x and %x", a.SerialNumber, b.SerialNumber)
	}
	other.waitHTTPS(t, s.www, acmeWait, nil)
	if n := s.pebble.NewOrders(); n != 2 {
		t.Errorf("%d orders at the CA for two names and two instances, want 2", n)
	}
}

// TestACMEReload adds a name on reload (obtained without a restart) and
// drops one (no longer served).
func TestACMEReload(t *testing.T) {
	t.Parallel()
	s := newACMESetup(t, "reload", 0)
	g := s.start(t, acmeYAML(""))
	s.waitHTTPS(t, s.www, acmeWait, nil)
	api := "api." + s.site
	if err := g.Apply(strings.Replace(acmeYAML(""), `"${WWW}"`, `"`+api+`"`, 1)); err != nil {
		t.Fatal(err)
	}
	s.waitHTTPS(t, api, acmeWait, nil)
	s.waitHTTPS(t, s.site, time.Second, nil)
	if _, _, _, err := s.httpsGet(t, s.www, "/"); err == nil {
		t.Errorf("%s is still served after it was dropped", s.www)
	}
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
