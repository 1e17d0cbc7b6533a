package acme_test

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/acme"
	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

const obtainTimeout = 60 * time.Second

func TestObtainHTTP01(t *testing.T) {
	s := newSite(t)
	p := startPebble(t, s, 0)
	logs := &testkit.Logs{}
	m := newManager(t, logs)
	s.mgr.Store(m)
	cfg := acmeConfig(p, t.TempDir(), "http01.test", "www.http01.test")
	cfg.Challenges = config.Strings{"http-01"}
	use(t, m, cfg)

	for _, name := range []string{"http01.test", "WWW.HTTP01.TEST."} {
		c := waitLeaf(t, s.secure.Addr().String(), name, p.IssuerPool, obtainTimeout, nil)
		if err := c.VerifyHostname(strings.TrimSuffix(name, ".")); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := s.httpAnswers.Load(); n < 2 {
		t.Errorf("%d HTTP-01 challenge requests answered, want at least one per name", n)
	}
	if n := s.alpnHellos.Load(); n != 0 {
		t.Errorf("%d acme-tls/1 handshakes with tls-alpn-01 disabled", n)
	}
	logs.Wait(t, time.Second, "acme certificate obtained", "domain", "http01.test")
	// certmagic's own narration arrives at debug level, marked as such.
	logs.Wait(t, time.Second, "certificate obtained successfully", "level", "DEBUG", "component", "certmagic.obtain")
	if n := p.NewOrders(); n != 2 {
		t.Errorf("%d new orders, want 2 (one per name)", n)
	}

	// A reload that drops a name stops serving it; the kept name is
	// served on without a new order.
	cfg.Domains = config.Strings{"http01.test"}
	use(t, m, cfg)
	if _, err := leaf(s.secure.Addr().String(), "www.http01.test", p.IssuerPool); err == nil {
		t.Error("www.http01.test still served after it was dropped")
	}
	if m.Covers("www.http01.test") || !m.Covers("HTTP01.test.:443") {
		t.Error("Covers does not follow the plan in use")
	}
	waitLeaf(t, s.secure.Addr().String(), "http01.test", p.IssuerPool, time.Second, nil)
	if n := p.NewOrders(); n != 2 {
		t.Errorf("%d new orders after the reload, want still 2", n)
	}
}

func TestObtainTLSALPN01(t *testing.T) {
	s := newSite(t)
	p := startPebble(t, s, 0)
	m := newManager(t, &testkit.Logs{})
	s.mgr.Store(m)
	cfg := acmeConfig(p, t.TempDir(), "alpn.test")
	cfg.Challenges = config.Strings{"tls-alpn-01"}
	use(t, m, cfg)

	waitLeaf(t, s.secure.Addr().String(), "alpn.test", p.IssuerPool, obtainTimeout, nil)
	if n := s.alpnHellos.Load(); n == 0 {
		t.Error("no acme-tls/1 handshake: the certificate was not validated by TLS-ALPN-01")
	}
	if n := s.httpAnswers.Load(); n != 0 {
		t.Errorf("%d HTTP-01 challenge requests answered with http-01 disabled", n)
	}
}

// Certificates valid for 30 s, checked every second, are renewed while
// the server keeps serving: a new serial appears without a restart.
func TestRenewal(t *testing.T) {
	s := newSite(t)
	p := startPebble(t, s, 30*time.Second)
	logs := &testkit.Logs{}
	m := newManager(t, logs)
	s.mgr.Store(m)
	cfg := acmeConfig(p, t.TempDir(), "renew.test")
	cfg.RenewCheckInterval = config.Duration(time.Second)
	use(t, m, cfg)

	addr := s.secure.Addr().String()
	first := waitLeaf(t, addr, "renew.test", p.IssuerPool, obtainTimeout, nil)
	if life := first.NotAfter.Sub(first.NotBefore); life > time.Minute {
		t.Fatalf("certificate valid for %s, want Pebble's short validity", life)
	}
	start := time.Now()
	next := waitLeaf(t, addr, "renew.test", p.IssuerPool, 45*time.Second, func(c *x509.Certificate) bool {
		return c.SerialNumber.Cmp(first.SerialNumber) != 0
	})
	t.Logf("renewed %s after the first certificate was served (expiry was %s away)",
		time.Since(start).Round(time.Second), first.NotAfter.Sub(start).Round(time.Second))
	if !next.NotAfter.After(first.NotAfter) {
		t.Errorf("renewed certificate expires %s, not after the first (%s)", next.NotAfter, first.NotAfter)
	}
	logs.Wait(t, time.Second, "acme certificate renewed", "domain", "renew.test")
}

// Two instances sharing a storage directory: one order at the CA, and
// both serve the certificate it stored.
func TestSharedStorage(t *testing.T) {
	a, b := newSite(t), newSite(t)
	p := startPebble(t, a, 0) // validates against a; b's challenges are answered by a from storage
	storage := t.TempDir()
	ma, mb := newManager(t, &testkit.Logs{}), newManager(t, &testkit.Logs{})
	a.mgr.Store(ma)
	b.mgr.Store(mb)
	cfg := acmeConfig(p, storage, "shared.test")
	cfg.Challenges = config.Strings{"http-01"}

	var wg sync.WaitGroup
	for _, m := range []*acme.Manager{ma, mb} {
		wg.Go(func() { use(t, m, cfg) })
	}
	wg.Wait()
	ca := waitLeaf(t, a.secure.Addr().String(), "shared.test", p.IssuerPool, obtainTimeout, nil)
	cb := waitLeaf(t, b.secure.Addr().String(), "shared.test", p.IssuerPool, obtainTimeout, nil)
	if !ca.Equal(cb) {
		t.Errorf("the instances serve different certificates: %s and %s", describe(ca), describe(cb))
	}
	if n := p.NewOrders(); n != 1 {
		t.Errorf("%d new orders at the CA, want 1", n)
	}
	stored := storedLeaf(t, storage, "shared.test")
	if !stored.Equal(ca) {
		t.Errorf("served %s, storage holds %s", describe(ca), describe(stored))
	}
}

// storedLeaf reads the certificate for name from a certmagic storage
// directory.
func storedLeaf(t *testing.T, storage, name string) *x509.Certificate {
	t.Helper()
	var found *x509.Certificate
	err := filepath.WalkDir(storage, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(path) != name+".crt" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		block, _ := pem.Decode(bytes.TrimSpace(data))
		if block == nil {
			t.Fatalf("%s: no PEM", path)
		}
		found, err = x509.ParseCertificate(block.Bytes)
		return err
	})
	if err != nil || found == nil {
		t.Fatalf("no certificate for %s in %s (%v)", name, storage, err)
	}
	return found
}
