package tlsx_test

import (
	"crypto/tls"
	"crypto/x509"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
	"github.com/gatehouse-proxy/gatehouse/tlsx"
)

// tlsServer serves one certificate for localhost with ServerConfig(lt).
func tlsServer(t *testing.T, lt *config.ListenerTLS) (addr string, ca *testkit.CA) {
	t.Helper()
	ca = testkit.NewCA(t, "server")
	leaf := ca.Issue([]string{"localhost"}, testkit.LeafOptions{})
	get := func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &leaf.TLS, nil }
	cfg, _, err := tlsx.ServerConfig(lt, get, []string{"http/1.1"}, "")
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, "127.0.0.1:0", cfg), ca
}

func TestServerConfigDefaults(t *testing.T) {
	addr, ca := tlsServer(t, &config.ListenerTLS{})
	client := func(edit func(*tls.Config)) *tls.Config {
		c := ca.ClientTLS("localhost", nil)
		c.NextProtos = []string{"http/1.1"}
		edit(c)
		return c
	}
	refused := map[string]func(*tls.Config){
		"TLS 1.1": func(c *tls.Config) { c.MaxVersion = tls.VersionTLS11 },
		"TLS 1.2 CBC": func(c *tls.Config) {
			c.MaxVersion, c.CipherSuites = tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}
		},
		"only P-521": func(c *tls.Config) { c.CurvePreferences = []tls.CurveID{tls.CurveP521} },
		"TLS 1.2 RSA": func(c *tls.Config) {
			c.MaxVersion, c.CipherSuites = tls.VersionTLS12, []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}
		},
		"TLS 1.2 3DES": func(c *tls.Config) {
			c.MaxVersion, c.CipherSuites = tls.VersionTLS12, []uint16{tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA}
		},
	}
	for name, edit := range refused {
		t.Run(name+" refused", func(t *testing.T) {
			if st, err := handshake(addr, client(edit)); err == nil {
				t.Fatalf("handshake succeeded: version %x, suite %s", st.Version, tls.CipherSuiteName(st.CipherSuite))
			}
		})
	}
	t.Run("TLS 1.3 with hybrid post-quantum key exchange", func(t *testing.T) {
		st := mustHandshake(t, addr, client(func(*tls.Config) {}))
		if st.Version != tls.VersionTLS13 || st.CurveID != tls.X25519MLKEM768 || st.NegotiatedProtocol != "http/1.1" {
			t.Fatalf("version %x, curve %v, ALPN %q", st.Version, st.CurveID, st.NegotiatedProtocol)
		}
	})
	t.Run("X25519", func(t *testing.T) {
		st := mustHandshake(t, addr, client(func(c *tls.Config) { c.CurvePreferences = []tls.CurveID{tls.X25519} }))
		if st.CurveID != tls.X25519 {
			t.Fatalf("curve %v", st.CurveID)
		}
	})
	t.Run("TLS 1.2 gets ECDHE with AEAD", func(t *testing.T) {
		st := mustHandshake(t, addr, client(func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }))
		name := tls.CipherSuiteName(st.CipherSuite)
		if st.Version != tls.VersionTLS12 || !strings.HasPrefix(name, "TLS_ECDHE_") ||
			!(strings.Contains(name, "GCM") || strings.Contains(name, "CHACHA20")) {
			t.Fatalf("version %x, suite %s", st.Version, name)
		}
	})
	for _, v := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		t.Run("resumption "+tls.VersionName(v), func(t *testing.T) {
			c := client(func(c *tls.Config) {
				c.MaxVersion = v
				c.ClientSessionCache = tls.NewLRUClientSessionCache(4)
			})
			if st := mustHandshake(t, addr, c); st.DidResume {
				t.Fatal("first handshake resumed")
			}
			if st := mustHandshake(t, addr, c); !st.DidResume {
				t.Fatal("second handshake did not resume")
			}
		})
	}
}

func TestServerConfigVersionOverrides(t *testing.T) {
	t.Run("min 1.3 refuses 1.2", func(t *testing.T) {
		addr, ca := tlsServer(t, &config.ListenerTLS{MinVersion: "1.3"})
		c := ca.ClientTLS("localhost", nil)
		c.MaxVersion = tls.VersionTLS12
		if _, err := handshake(addr, c); err == nil {
			t.Fatal("a TLS 1.2 client got in")
		}
		if st := mustHandshake(t, addr, ca.ClientTLS("localhost", nil)); st.Version != tls.VersionTLS13 {
			t.Fatalf("version %x", st.Version)
		}
	})
	t.Run("max 1.2", func(t *testing.T) {
		addr, ca := tlsServer(t, &config.ListenerTLS{MaxVersion: "1.2"})
		if st := mustHandshake(t, addr, ca.ClientTLS("localhost", nil)); st.Version != tls.VersionTLS12 {
			t.Fatalf("version %x", st.Version)
		}
	})
}

func TestServerConfigCipherAndCurveOverrides(t *testing.T) {
	addr, ca := tlsServer(t, &config.ListenerTLS{
		Ciphers: config.Strings{"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"}, // Go's name
		Curves:  config.Strings{"P-384"},
	})
	c := ca.ClientTLS("localhost", nil)
	c.MaxVersion = tls.VersionTLS12
	st := mustHandshake(t, addr, c)
	if st.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 || st.CurveID != tls.CurveP384 {
		t.Fatalf("suite %s, curve %v", tls.CipherSuiteName(st.CipherSuite), st.CurveID)
	}
}

func TestServerConfigRefusesBadOverrides(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "ca.pem")
	tests := []struct {
		name string
		lt   config.ListenerTLS
		want string
	}{
		{"TLS 1.1", config.ListenerTLS{MinVersion: "1.1"}, "insecure"},
		{"version typo", config.ListenerTLS{MaxVersion: "13"}, `use "1.2" or "1.3"`},
		{"min above max", config.ListenerTLS{MinVersion: "1.3", MaxVersion: "1.2"}, "above max_version"},
		{"RC4", config.ListenerTLS{Ciphers: config.Strings{"TLS_ECDHE_RSA_WITH_RC4_128_SHA"}}, "insecure"},
		{"RSA key exchange", config.ListenerTLS{Ciphers: config.Strings{"TLS_RSA_WITH_AES_128_GCM_SHA256"}}, "no forward secrecy"},
		{"CBC", config.ListenerTLS{Ciphers: config.Strings{"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"}}, "CBC"},
		{"TLS 1.3 suite", config.ListenerTLS{Ciphers: config.Strings{"TLS_AES_128_GCM_SHA256"}}, "TLS 1.3"},
		{"unknown suite", config.ListenerTLS{Ciphers: config.Strings{"TLS_FOO"}}, "unknown cipher suite"},
		{"unknown curve", config.ListenerTLS{Curves: config.Strings{"X448"}}, "unknown"},
		{"require without CA", config.ListenerTLS{ClientAuth: &config.ClientAuth{Mode: "require"}}, "required"},
		{"unreadable CA", config.ListenerTLS{ClientAuth: &config.ClientAuth{Mode: "request", CA: missing}}, missing},
		{"unknown mode", config.ListenerTLS{ClientAuth: &config.ClientAuth{Mode: "maybe"}}, `"maybe"`},
	}
	get := func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return nil, nil }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := tlsx.ServerConfig(&tc.lt, get, nil, "")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestServerConfigLeavesNextProtosToCaller(t *testing.T) {
	protos := []string{"h2", "http/1.1", "acme-tls/1"}
	cfg, pool, err := tlsx.ServerConfig(nil, nil, protos, "")
	if err != nil {
		t.Fatal(err)
	}
	protos[0] = "changed"
	if !slices.Equal(cfg.NextProtos, []string{"h2", "http/1.1", "acme-tls/1"}) || pool != nil || cfg.SessionTicketsDisabled {
		t.Fatalf("NextProtos %v, pool %v, tickets disabled %v", cfg.NextProtos, pool, cfg.SessionTicketsDisabled)
	}
}

func mustHandshake(t *testing.T, addr string, c *tls.Config) tls.ConnectionState {
	t.Helper()
	st, err := handshake(addr, c)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestLoadCAPool(t *testing.T) {
	ca := testkit.NewCA(t, "pool")
	if _, err := tlsx.LoadCAPool(ca.CertFile); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	leaf := ca.Issue([]string{"x.example.com"}, testkit.LeafOptions{})
	for file, want := range map[string]string{
		filepath.Join(dir, "missing.pem"):        "cannot read",
		write(t, dir, "text.pem", "hello\n"):     "no PEM certificate",
		leaf.KeyFile:                             "no PEM certificate",
		write(t, dir, "broken.pem", brokenPEM()): "cannot be parsed",
	} {
		_, err := tlsx.LoadCAPool(file)
		if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadCAPool(%s) = %v, want the file named and %q", file, err, want)
		}
	}
}

func brokenPEM() string {
	return "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
}

// verifies reports whether leaf chains to pool as a client certificate.
func verifies(leaf *testkit.Leaf, pool *x509.CertPool) bool {
	_, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return err == nil
}
