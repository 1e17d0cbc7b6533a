package tlsx_test

import (
	"crypto/tls"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
	"github.com/gatehouse-proxy/gatehouse/tlsx"
)

// mtls is a server certificate plus client certificates from the trusted
// CA and from a foreign one.
type mtls struct {
	server, trusted *testkit.CA
	good, foreign   *testkit.Leaf
	serverLeaf      *testkit.Leaf
}

func newMTLS(t *testing.T) *mtls {
	s := &mtls{
		server:  testkit.NewCA(t, "server"),
		trusted: testkit.NewCA(t, "clients"),
	}
	s.serverLeaf = s.server.Issue([]string{"localhost"}, testkit.LeafOptions{})
	s.good = s.trusted.Issue([]string{"alice"}, testkit.LeafOptions{Client: true})
	s.foreign = testkit.NewCA(t, "elsewhere").Issue([]string{"mallory"}, testkit.LeafOptions{Client: true})
	return s
}

func (s *mtls) listen(t *testing.T, ca *config.ClientAuth) (string, *tls.Config) {
	t.Helper()
	get := func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &s.serverLeaf.TLS, nil }
	cfg, pool, err := tlsx.ServerConfig(&config.ListenerTLS{ClientAuth: ca}, get, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if ca.CA != "" && (!verifies(s.good, pool) || verifies(s.foreign, pool)) {
		t.Fatal("the returned pool does not hold exactly the configured CA")
	}
	return serve(t, "127.0.0.1:0", cfg), cfg
}

func (s *mtls) clients() map[string]*tls.Config {
	return map[string]*tls.Config{
		"no certificate":      s.server.ClientTLS("localhost", nil),
		"foreign certificate": s.server.ClientTLS("localhost", s.foreign),
		"good certificate":    s.server.ClientTLS("localhost", s.good),
	}
}

func TestClientAuthRequire(t *testing.T) {
	s := newMTLS(t)
	addr, _ := s.listen(t, &config.ClientAuth{Mode: "require", CA: s.trusted.CertFile})
	for name, c := range s.clients() {
		for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
			t.Run(name+" "+tls.VersionName(v), func(t *testing.T) {
				c := c.Clone()
				c.MaxVersion = v
				_, err := handshake(addr, c)
				if name == "good certificate" && err != nil {
					t.Fatalf("refused: %v", err)
				}
				if name != "good certificate" && err == nil {
					t.Fatal("accepted")
				}
			})
		}
	}
}

func TestClientAuthRequestLetsEveryoneIn(t *testing.T) {
	s := newMTLS(t)
	for _, ca := range []string{s.trusted.CertFile, ""} {
		addr, cfg := s.listen(t, &config.ClientAuth{Mode: "request", CA: ca})
		if cfg.ClientAuth != tls.RequestClientCert {
			t.Fatalf("ClientAuth = %v, want RequestClientCert (verification is per request)", cfg.ClientAuth)
		}
		for name, c := range s.clients() {
			t.Run(name, func(t *testing.T) {
				if _, err := handshake(addr, c); err != nil {
					t.Fatalf("refused: %v", err)
				}
			})
		}
	}
}
