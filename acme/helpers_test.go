package acme_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/acme"
	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestMain fails the package if certmagic or acme goroutines outlive the
// tests: Close must stop maintenance and every obtain attempt.
func TestMain(m *testing.M) {
	os.Exit(testkit.RunCheckingLeaks(m, 10*time.Second, func(g string) bool {
		return strings.Contains(g, "caddyserver/certmagic") || strings.Contains(g, "gatehouse/acme.")
	}))
}

// site is a plain HTTP and a TLS server on loopback serving one Manager's
// challenges and certificates, as Gatehouse's listeners do. Both ports are
// bound before Pebble starts, so Pebble can be told them.
type site struct {
	plain, secure net.Listener
	// httpAnswers counts HTTP-01 challenge requests answered; alpnHellos
	// counts handshakes offering acme-tls/1.
	httpAnswers, alpnHellos atomic.Int64
	mgr                     atomic.Pointer[acme.Manager]
}

func newSite(t *testing.T) *site {
	t.Helper()
	s := &site{plain: listen(t), secure: listen(t)}
	quiet := log.New(io.Discard, "", 0) // failed handshakes while waiting are expected
	plain := &http.Server{ErrorLog: quiet, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m := s.mgr.Load(); m != nil && m.HandleHTTPChallenge(w, r) {
			s.httpAnswers.Add(1)
			return
		}
		http.NotFound(w, r)
	})}
	secure := &http.Server{
		ErrorLog: quiet,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "hello over TLS")
		}),
		TLSConfig: &tls.Config{
			NextProtos:     []string{"http/1.1", "acme-tls/1"},
			GetCertificate: s.getCertificate,
		},
	}
	go func() { _ = plain.Serve(s.plain) }()
	go func() { _ = secure.ServeTLS(s.secure, "", "") }()
	t.Cleanup(func() {
		_ = plain.Close()
		_ = secure.Close()
	})
	return s
}

func (s *site) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	m := s.mgr.Load()
	if m == nil {
		return nil, fmt.Errorf("no manager")
	}
	for _, p := range hello.SupportedProtos {
		if p == "acme-tls/1" {
			s.alpnHellos.Add(1)
		}
	}
	c, err := m.GetCertificate(hello)
	if c == nil && err == nil {
		err = fmt.Errorf("no certificate for %q", hello.ServerName)
	}
	return c, err
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func port(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }

// startPebble starts Pebble validating against s and checks that it is on
// loopback: no test may reach a real CA.
func startPebble(t *testing.T, s *site, validity time.Duration) *testkit.Pebble {
	t.Helper()
	p := testkit.StartPebble(t, testkit.PebbleOptions{
		HTTPPort: port(s.plain), TLSPort: port(s.secure), ValidityPeriod: validity,
	})
	u, err := url.Parse(p.Directory)
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("pebble directory %q is not on loopback", p.Directory)
	}
	return p
}

// acmeConfig is a config for Pebble p managing domains.
func acmeConfig(p *testkit.Pebble, storage string, domains ...string) *config.ACME {
	return &config.ACME{
		Domains:            domains,
		Email:              "ops@gatehouse.test",
		Directory:          p.Directory,
		CARoot:             p.CARootFile,
		Storage:            storage,
		RenewCheckInterval: config.Duration(10 * time.Minute),
		OCSPStapling:       true,
	}
}

// newManager returns a Manager logging to logs, closed when the test ends.
func newManager(t *testing.T, logs *testkit.Logs) *acme.Manager {
	t.Helper()
	m := acme.NewManager(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() {
		m.Close()
		if t.Failed() {
			t.Logf("acme log:\n%s", logs)
		}
	})
	return m
}

// use prepares cfg and puts it in use on m.
func use(t *testing.T, m *acme.Manager, cfg *config.ACME) {
	t.Helper()
	p, err := m.Prepare(cfg, t.TempDir())
	if err != nil {
		t.Fatalf("prepare: %v", err)
	}
	m.Use(p)
}

// leaf handshakes with addr for name, verifying against roots, and
// returns the server's certificate, or the handshake error.
func leaf(addr, name string, roots *x509.CertPool) (*x509.Certificate, error) {
	d := &net.Dialer{Timeout: 2 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{ServerName: name, RootCAs: roots})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0], nil
}

// waitLeaf polls addr until it serves a certificate for name that verifies
// against roots and satisfies ok (nil: any).
func waitLeaf(t *testing.T, addr, name string, roots *x509.CertPool, timeout time.Duration, ok func(*x509.Certificate) bool) *x509.Certificate {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := leaf(addr, name, roots)
		if err == nil && (ok == nil || ok(c)) {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: no wanted certificate for %s at %s (last: %v, error: %v)", timeout, name, addr, describe(c), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func describe(c *x509.Certificate) string {
	if c == nil {
		return "none"
	}
	return fmt.Sprintf("serial %x, valid %s to %s", c.SerialNumber, c.NotBefore.Format(time.TimeOnly), c.NotAfter.Format(time.TimeOnly))
}
