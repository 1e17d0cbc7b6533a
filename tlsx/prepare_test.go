package tlsx_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

func TestPrepareRefusesBadFilesNamingThem(t *testing.T) {
	ca := testkit.NewCA(t, "prepare")
	good := ca.Issue([]string{"good.example.com"}, testkit.LeafOptions{})
	other := ca.Issue([]string{"other.example.com"}, testkit.LeafOptions{})
	expired := ca.Issue([]string{"old.example.com"}, testkit.LeafOptions{
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	future := ca.Issue([]string{"new.example.com"}, testkit.LeafOptions{
		NotBefore: time.Now().Add(time.Hour), NotAfter: time.Now().Add(48 * time.Hour)})
	dir := t.TempDir()
	garbage := write(t, dir, "garbage.pem", "this is not a certificate\n")
	missing := filepath.Join(dir, "missing.pem")

	tests := []struct {
		name string
		cert config.Certificate
		file string // the path the error must name
		want string // and what it must say
	}{
		{"unreadable cert", config.Certificate{Cert: missing, Key: good.KeyFile}, missing, "cannot read"},
		{"unreadable key", config.Certificate{Cert: good.CertFile, Key: missing}, missing, "cannot read"},
		{"cert not PEM", config.Certificate{Cert: garbage, Key: good.KeyFile}, garbage, "not PEM"},
		{"key not PEM", config.Certificate{Cert: good.CertFile, Key: garbage}, garbage, "not PEM"},
		{"swapped", config.Certificate{Cert: good.KeyFile, Key: good.CertFile}, good.KeyFile, "swapped"},
		{"mismatched key", config.Certificate{Cert: good.CertFile, Key: other.KeyFile}, other.KeyFile, "does not match"},
		{"expired", certOf(expired), expired.CertFile, "expired"},
		{"not yet valid", certOf(future), future.CertFile, "not yet valid"},
		{"wrong name", certOf(good, "api.example.com"), good.CertFile, "wrong name"},
		{"wrong wildcard", certOf(good, "*.example.com"), good.CertFile, "wrong name"},
		{"bad pattern", certOf(good, "a.*.example.com"), good.CertFile, "not a host name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newManager(t)
			p, err := m.Prepare(&config.TLS{Certificates: []config.Certificate{tc.cert}}, "")
			if err == nil {
				t.Fatalf("Prepare accepted it (plan %v)", p)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.file) || !strings.Contains(msg, tc.want) || !strings.Contains(msg, "tls.certificates[0]") {
				t.Fatalf("error %q should name tls.certificates[0], %s and say %q", msg, tc.file, tc.want)
			}
			if m.Current() != nil {
				t.Fatal("Prepare changed the current plan")
			}
		})
	}
}

func TestPrepareReportsEveryProblem(t *testing.T) {
	ca := testkit.NewCA(t, "prepare")
	good := ca.Issue([]string{"good.example.com"}, testkit.LeafOptions{})
	dir := t.TempDir()
	m, _ := newManager(t)
	_, err := m.Prepare(&config.TLS{Certificates: []config.Certificate{
		{Cert: filepath.Join(dir, "a.pem"), Key: good.KeyFile},
		certOf(good),
		{Cert: good.CertFile},
		{Cert: filepath.Join(dir, "b.pem"), Key: good.KeyFile},
	}}, "")
	if err == nil {
		t.Fatal("Prepare accepted missing files")
	}
	for _, want := range []string{"tls.certificates[0]", "a.pem", "tls.certificates[2]: both cert and key", "tls.certificates[3]", "b.pem"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestPrepareResolvesRelativePathsAgainstBaseDir(t *testing.T) {
	ca := testkit.NewCA(t, "prepare")
	l := ca.Issue([]string{"rel.example.com"}, testkit.LeafOptions{})
	dir := t.TempDir()
	for _, f := range []string{l.CertFile, l.KeyFile} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		write(t, dir, filepath.Base(f), string(data))
	}
	m, _ := newManager(t)
	rel := config.Certificate{Cert: filepath.Base(l.CertFile), Key: filepath.Base(l.KeyFile)}
	p, err := m.Prepare(&config.TLS{Certificates: []config.Certificate{rel}}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Covers("rel.example.com") {
		t.Fatal("plan does not cover the certificate's name")
	}
	if _, err := m.Prepare(&config.TLS{Certificates: []config.Certificate{rel}}, t.TempDir()); err == nil ||
		!strings.Contains(err.Error(), "cannot read") {
		t.Fatalf("relative path resolved against the wrong directory: %v", err)
	}
}

func TestPrepareConfiguredNamesRestrictServing(t *testing.T) {
	ca := testkit.NewCA(t, "prepare")
	l := ca.Issue([]string{"a.example.com", "b.example.com"}, testkit.LeafOptions{})
	m, _ := newManager(t)
	p := use(t, m, certOf(l, "A.example.com."))
	if !p.Covers("a.example.com") || p.Covers("b.example.com") {
		t.Fatal("configured names should replace the certificate's own")
	}
}

func TestPrepareACMEWithoutManager(t *testing.T) {
	m, _ := newManager(t)
	_, err := m.Prepare(&config.TLS{ACME: &config.ACME{Domains: config.Strings{"a.example.com"}}}, "")
	if err == nil || !strings.Contains(err.Error(), "tls.acme") {
		t.Fatalf("err = %v, want a tls.acme error", err)
	}
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
