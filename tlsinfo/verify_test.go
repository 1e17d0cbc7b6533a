package tlsinfo_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

func TestVerified(t *testing.T) {
	a, b := testkit.NewCA(t, "CA A"), testkit.NewCA(t, "CA B")
	certs := map[string]*tls.Certificate{
		"a":         &a.Issue([]string{"alice"}, testkit.LeafOptions{Client: true}).TLS,
		"b":         &b.Issue([]string{"bob"}, testkit.LeafOptions{Client: true}).TLS,
		"a server":  &a.Issue([]string{"srv"}, testkit.LeafOptions{}).TLS,
		"a expired": &a.Issue([]string{"old"}, testkit.LeafOptions{Client: true, NotAfter: time.Now().Add(-time.Minute)}).TLS,
		"a via int": intermediateLeaf(t, a, "carol"),
		"none":      nil,
	}
	tests := []struct {
		listener      string // "request", "request-no-ca", "require"
		cert          string
		status        string
		listenerOK    bool
		otherOK       bool // verified against B
		verifications int  // after the first request
	}{
		{"request", "a", "SUCCESS", true, false, 2},
		{"request", "b", "FAILED", false, true, 2},
		{"request", "a server", "FAILED", false, false, 2},
		{"request", "a expired", "FAILED", false, false, 2},
		{"request", "a via int", "SUCCESS", true, false, 2},
		{"request", "none", "NONE", false, false, 0},
		{"request-no-ca", "a", "FAILED", false, false, 1},
		{"request-no-ca", "b", "FAILED", false, true, 1},
		{"require", "a", "SUCCESS", true, false, 1}, // the handshake verified A: no work for it
		{"require", "a via int", "SUCCESS", true, false, 1},
	}
	servers := map[string]*server{
		"request":       newServer(t, opts{mode: tls.RequestClientCert, listenerCA: a.Pool, other: b.Pool, h2: true}),
		"request-no-ca": newServer(t, opts{mode: tls.RequestClientCert, other: b.Pool, h2: true}),
		"require":       newServer(t, opts{mode: tls.RequireAndVerifyClientCert, listenerCA: a.Pool, other: b.Pool, h2: true}),
	}
	for _, tt := range tests {
		t.Run(tt.listener+"/"+tt.cert, func(t *testing.T) {
			s := servers[tt.listener]
			cfg := &tls.Config{}
			if c := certs[tt.cert]; c != nil {
				cfg.Certificates = []tls.Certificate{*c}
			}
			c := s.client(cfg, true)
			for i := range 3 {
				f := get(t, c, s.URL)
				if f.Status != tt.status || f.Listener != tt.listenerOK || f.Other != tt.otherOK ||
					(f.VerifiedSubject != "") != tt.listenerOK {
					t.Fatalf("request %d: status %s, listener %v (subject %q), other %v; want %s, %v, %v",
						i, f.Status, f.Listener, f.VerifiedSubject, f.Other, tt.status, tt.listenerOK, tt.otherOK)
				}
				if !f.HasConn || f.Verifications != tt.verifications {
					t.Fatalf("request %d: %d verifications on the connection (state %v), want %d",
						i, f.Verifications, f.HasConn, tt.verifications)
				}
			}
		})
	}
}

// TestVerifiedOncePerConnection sends concurrent HTTP/2 requests and
// sequential HTTP/1.1 keep-alive requests, each on one connection: every
// one is verified, by one verification per pool.
func TestVerifiedOncePerConnection(t *testing.T) {
	a, b := testkit.NewCA(t, "CA A"), testkit.NewCA(t, "CA B")
	alice := a.Issue([]string{"alice"}, testkit.LeafOptions{Client: true})
	for _, h2 := range []bool{true, false} {
		s := newServer(t, opts{mode: tls.RequestClientCert, listenerCA: a.Pool, other: b.Pool, h2: h2})
		c := s.client(&tls.Config{Certificates: []tls.Certificate{alice.TLS}}, h2)
		get(t, c, s.URL) // one connection, then reused
		var wg sync.WaitGroup
		var mu sync.Mutex
		var bad []facts
		for range 50 {
			wg.Go(func() {
				f := get(t, c, s.URL)
				if f.Status != "SUCCESS" || !f.Listener || f.Other || f.Verifications != 2 {
					mu.Lock()
					bad = append(bad, f)
					mu.Unlock()
				}
			})
			if !h2 {
				wg.Wait() // keep-alive: one connection when sequential
			}
		}
		wg.Wait()
		if len(bad) > 0 {
			t.Errorf("h2 %v: %d of 50 requests wrong, first: %+v", h2, len(bad), bad[0])
		}
	}
}

// TestVerifiedWithoutConnContext checks a server that never called
// ConnContext: only the handshake's own verification counts for the
// listener, and an explicit pool is still checked.
func TestVerifiedWithoutConnContext(t *testing.T) {
	a := testkit.NewCA(t, "CA A")
	alice := a.Issue([]string{"alice"}, testkit.LeafOptions{Client: true})
	for _, mode := range []tls.ClientAuthType{tls.RequestClientCert, tls.RequireAndVerifyClientCert} {
		s := newServer(t, opts{mode: mode, listenerCA: a.Pool, other: a.Pool, noState: true})
		f := get(t, s.client(&tls.Config{Certificates: []tls.Certificate{alice.TLS}}, false), s.URL)
		want := mode == tls.RequireAndVerifyClientCert
		if f.Listener != want || !f.Other || f.HasConn {
			t.Errorf("mode %v: listener %v (want %v), explicit pool %v (want true), state %v", mode, f.Listener, want, f.Other, f.HasConn)
		}
	}
}

// intermediateLeaf issues a client certificate from an intermediate CA
// signed by ca, and returns it with the intermediate in its chain.
func intermediateLeaf(t *testing.T, ca *testkit.CA, name string) *tls.Certificate {
	t.Helper()
	ikey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	itmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "intermediate"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	ider, err := x509.CreateCertificate(rand.Reader, itmpl, ca.Cert, &ikey.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	inter, _ := x509.ParseCertificate(ider)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano() + 1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, inter, &key.PublicKey, ikey)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der, ider}, PrivateKey: key}
}
