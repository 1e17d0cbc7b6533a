package acme_test

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/acme"
	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

func TestPrepareErrors(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	aFile := filepath.Join(dir, "file")
	if err := os.WriteFile(aFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ok := func() *config.ACME {
		return &config.ACME{Domains: config.Strings{"example.com"}, Directory: "https://127.0.0.1:14000/dir"}
	}
	for _, tc := range []struct {
		name   string
		edit   func(*config.ACME)
		expect string
	}{
		{"plain http directory", func(c *config.ACME) { c.Directory = "http://127.0.0.1:14000/dir" }, `directory "http://127.0.0.1:14000/dir": must be an https:// URL`},
		{"directory without host", func(c *config.ACME) { c.Directory = "https:///dir" }, "must be an https:// URL"},
		{"directory not a URL", func(c *config.ACME) { c.Directory = "acme-v02.api.letsencrypt.org" }, "must be an https:// URL"},
		{"missing ca_root", func(c *config.ACME) { c.CARoot = filepath.Join(dir, "missing.pem") }, "ca_root: open " + filepath.Join(dir, "missing.pem")},
		{"ca_root not PEM", func(c *config.ACME) { c.CARoot = notPEM }, "ca_root " + notPEM + ": no PEM certificate"},
		{"no domains", func(c *config.ACME) { c.Domains = nil }, "domains: list at least one name"},
		{"wildcard", func(c *config.ACME) { c.Domains = config.Strings{"*.example.com"} }, "wildcard names need the DNS-01 challenge"},
		{"not a name", func(c *config.ACME) { c.Domains = config.Strings{"example.com/x"} }, "not a host name"},
		{"IP address", func(c *config.ACME) { c.Domains = config.Strings{"192.0.2.1"} }, "IP addresses are not supported"},
		{"unknown challenge", func(c *config.ACME) { c.Challenges = config.Strings{"dns-01"} }, `challenges: "dns-01": unknown challenge`},
		{"bad email", func(c *config.ACME) { c.Email = "ops" }, `email "ops": not an email address`},
		{"interval too short", func(c *config.ACME) { c.RenewCheckInterval = config.Duration(time.Millisecond) }, "renew_check_interval 1ms: must be at least 1s"},
		{"storage is a file", func(c *config.ACME) { c.Storage = aFile }, "storage " + aFile + ": is a file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok()
			tc.edit(cfg)
			p, err := acme.NewManager(nil).Prepare(cfg, dir)
			if err == nil || !strings.Contains(err.Error(), tc.expect) {
				t.Fatalf("Prepare = %v, %v; want an error containing %q", p, err, tc.expect)
			}
		})
	}
	t.Run("valid", func(t *testing.T) {
		if p, err := acme.NewManager(nil).Prepare(ok(), dir); err != nil || p == nil {
			t.Fatalf("Prepare = %v, %v", p, err)
		}
	})
	t.Run("every problem at once", func(t *testing.T) {
		cfg := ok()
		cfg.Directory, cfg.Challenges = "http://x/dir", config.Strings{"nope"}
		_, err := acme.NewManager(nil).Prepare(cfg, dir)
		if err == nil || !strings.Contains(err.Error(), "directory") || !strings.Contains(err.Error(), "challenges") {
			t.Fatalf("Prepare = %v; want both problems", err)
		}
	})
}

// Prepare does no I/O beyond reading ca_root: a storage directory that
// does not exist is not created, and relative paths resolve against the
// base directory.
func TestPrepareHasNoSideEffects(t *testing.T) {
	base := t.TempDir()
	ca := testkit.NewCA(t, "ca_root")
	rel, err := filepath.Rel(base, ca.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.ACME{Domains: config.Strings{"example.com"}, Directory: "https://127.0.0.1:1/dir", CARoot: rel}
	if _, err := acme.NewManager(nil).Prepare(cfg, base); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(base, acme.DefaultStorage)); !os.IsNotExist(err) {
		t.Errorf("Prepare touched the default storage directory: %v", err)
	}
}

// Names are matched ignoring case, a trailing dot and a port; names not
// listed, and listed names without a certificate yet, get (nil, nil) so
// the caller can fall back; a failed attempt is logged with its reason;
// nothing is managed after Use(nil).
func TestCoversAndUnmanagedNames(t *testing.T) {
	logs := &testkit.Logs{}
	m := newManager(t, logs)
	if m.Covers("example.com") {
		t.Error("Covers before any Use")
	}
	// A CA that is not there: the certificate is never obtained.
	use(t, m, &config.ACME{Domains: config.Strings{"Example.COM."}, Directory: "https://127.0.0.1:1/dir"})
	for host, want := range map[string]bool{
		"example.com": true, "EXAMPLE.com.": true, "example.com:443": true,
		"www.example.com": false, "": false, "[::1]:443": false,
	} {
		if got := m.Covers(host); got != want {
			t.Errorf("Covers(%q) = %v, want %v", host, got, want)
		}
	}
	for _, name := range []string{"example.com", "other.test", ""} {
		c, err := m.GetCertificate(&tls.ClientHelloInfo{ServerName: name})
		if c != nil || err != nil {
			t.Errorf("GetCertificate(%q) = %v, %v; want nil, nil", name, c, err)
		}
	}
	failed := logs.Wait(t, 10*time.Second, "acme certificate failed; retrying with backoff", "domain", "example.com")
	if !strings.Contains(failed.Str("error"), "127.0.0.1:1") || failed.Str("level") != "ERROR" {
		t.Errorf("failure logged as %v; want an error naming the CA's address", failed)
	}
	m.Use(nil)
	if m.Covers("example.com") {
		t.Error("Covers after Use(nil)")
	}
}
