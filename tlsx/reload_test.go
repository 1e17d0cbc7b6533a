package tlsx_test

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// reloadDeadline bounds how long a file change may take to show; the
// debounce is 200ms and a failed pair is retried once after a second.
const reloadDeadline = 10 * time.Second

// replace writes content beside dst and renames it over dst, as certbot,
// editors and config-management tools do.
func replace(t *testing.T, dst, src string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

// installed copies leaf's files into dir as cert.pem and key.pem.
func installed(t *testing.T, dir string, leaf *testkit.Leaf) config.Certificate {
	t.Helper()
	c := config.Certificate{Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "key.pem")}
	replace(t, c.Cert, leaf.CertFile)
	replace(t, c.Key, leaf.KeyFile)
	return c
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(reloadDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", reloadDeadline, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRenamedFilesAreServedWithoutRestart(t *testing.T) {
	ca := testkit.NewCA(t, "reload")
	first := ca.Issue([]string{"localhost"}, testkit.LeafOptions{})
	second := ca.Issue([]string{"localhost"}, testkit.LeafOptions{})
	stranger := ca.Issue([]string{"localhost"}, testkit.LeafOptions{})
	dir := t.TempDir()
	m, logs := newManager(t)
	c := installed(t, dir, first)
	use(t, m, c)
	addr := managerServer(t, m, "127.0.0.1:0")

	open, err := dial(addr, ca.ClientTLS("localhost", nil))
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	servedNow := func() *x509.Certificate {
		got, err := served(t, addr, "localhost")
		if err != nil {
			t.Fatalf("handshake during reload: %v", err)
		}
		return got
	}
	if !servedNow().Equal(first.Cert) {
		t.Fatal("not serving the first certificate")
	}

	// The key first, then the certificate: for a moment the pair mismatches.
	replace(t, c.Key, second.KeyFile)
	replace(t, c.Cert, second.CertFile)
	waitFor(t, "the renewed certificate is not served", func() bool { return servedNow().Equal(second.Cert) })
	if err := roundTrip(open); err != nil {
		t.Fatalf("the connection open before the change broke: %v", err)
	}
	if len(logs.Match("certificate reloaded", "cert", c.Cert)) == 0 {
		t.Errorf("no reload logged:\n%s", logs)
	}

	// A key that does not match: the old certificate stays, an error names the file.
	replace(t, c.Key, stranger.KeyFile)
	waitFor(t, "no error logged for the mismatched key", func() bool {
		for _, e := range logs.Match("") {
			if e.Str("level") == "ERROR" && strings.Contains(e.Str("error"), c.Key) {
				return true
			}
		}
		return false
	})
	if !servedNow().Equal(second.Cert) {
		t.Fatal("a bad rewrite replaced the certificate in use")
	}
	if err := roundTrip(open); err != nil {
		t.Fatalf("the open connection broke: %v", err)
	}
}

func TestWatchingStopsWithUseAndClose(t *testing.T) {
	ca := testkit.NewCA(t, "reload")
	first := ca.Issue([]string{"localhost"}, testkit.LeafOptions{})
	second := ca.Issue([]string{"localhost"}, testkit.LeafOptions{})
	dir := t.TempDir()
	m, logs := newManager(t)
	c := installed(t, dir, first)
	old := use(t, m, c)
	m.Use(nil)
	if m.Current() != nil {
		t.Fatal("Use(nil) left a plan current")
	}
	m.Close()
	m.Use(old) // after Close: ignored
	if m.Current() != nil {
		t.Fatal("Use after Close took effect")
	}
	replace(t, c.Key, second.KeyFile)
	replace(t, c.Cert, second.CertFile)
	// Nothing watches any more, so nothing may be reloaded; give a watcher
	// that wrongly survived ample time to show itself.
	time.Sleep(3 * settleForTest)
	if len(logs.Match("certificate reloaded")) != 0 {
		t.Fatalf("a stopped watcher reloaded:\n%s", logs)
	}
}

const settleForTest = 500 * time.Millisecond

// Files that change between Prepare and Use (a reload racing a renewal)
// are noticed when the plan goes into use.
func TestChangeBetweenPrepareAndUseIsPickedUp(t *testing.T) {
	ca := testkit.NewCA(t, "reload")
	first := ca.Issue([]string{"localhost"}, testkit.LeafOptions{})
	second := ca.Issue([]string{"localhost"}, testkit.LeafOptions{})
	m, _ := newManager(t)
	c := installed(t, t.TempDir(), first)
	p, err := m.Prepare(&config.TLS{Certificates: []config.Certificate{c}}, "")
	if err != nil {
		t.Fatal(err)
	}
	replace(t, c.Key, second.KeyFile)
	replace(t, c.Cert, second.CertFile)
	m.Use(p)
	addr := managerServer(t, m, "127.0.0.1:0")
	waitFor(t, "the certificate written before Use is not served", func() bool {
		got, err := served(t, addr, "localhost")
		return err == nil && got.Equal(second.Cert)
	})
}
