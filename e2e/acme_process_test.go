package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// sharedDomains are the names both processes of the shared-storage test
// manage. Each subtest has its own Pebble and storage, and certmagic's
// in-memory challenge state is per process, so subtests may reuse them.
var sharedDomains = []string{"shared1.test", "shared2.test"}

// acmeInstance is one gatehouse process of the shared-storage test, with
// its plain listener (where Pebble may validate HTTP-01) and TLS listener
// (TLS-ALPN-01, and where the test fetches certificates).
type acmeInstance struct {
	name        string
	proc        *testkit.Process
	plain, tlsL string
}

// acmeProcessSetup is what both instances of one subtest share.
type acmeProcessSetup struct {
	bin, storage, dir string
	pebble            *testkit.Pebble
	backend           *testkit.Backend
	challenge         string // "" for both
}

func (s *acmeProcessSetup) config(plain, tlsAddr string) string {
	challenges := "[http-01, tls-alpn-01]"
	if s.challenge != "" {
		challenges = "[" + s.challenge + "]"
	}
	return fmt.Sprintf(`listeners:
  - {name: plain, address: "%s"}
  - {name: https, address: "%s", tls: {}}
log: {level: debug, access: false}
limits: {drain_timeout: 5s}
tls:
  acme:
    domains: [%s]
    email: ops@shared.test
    directory: "%s"
    ca_root: "%s"
    storage: "%s"
    challenges: %s
routes: [{upstream: "%s"}]
`, plain, tlsAddr, strings.Join(sharedDomains, ", "), s.pebble.Directory, s.pebble.CARootFile,
		s.storage, challenges, s.backend.URL)
}

// launch starts an instance's process on fresh ports without waiting.
func (s *acmeProcessSetup) launch(t *testing.T, name string) *acmeInstance {
	t.Helper()
	in := &acmeInstance{name: name, plain: freeAddr(t), tlsL: freeAddr(t)}
	path := filepath.Join(s.dir, name+".yaml")
	writeConfig(t, path, s.config(in.plain, in.tlsL))
	in.proc = testkit.StartProcess(t, s.bin, s.dir, "run", "-config", path)
	return in
}

// ready waits until in has started, launching it again on other ports if
// one it was given was taken in the meantime.
func (s *acmeProcessSetup) ready(t *testing.T, in *acmeInstance) {
	t.Helper()
	for try := 0; ; try++ {
		testkit.Eventually(t, 30*time.Second, func() bool {
			return in.proc.Exited() || len(in.proc.Logs.Match("gatehouse started")) > 0
		}, "instance %s did not start", in.name)
		if !in.proc.Exited() {
			return
		}
		if try == 3 || !strings.Contains(in.proc.Stderr.String()+in.proc.Logs.String(), "address already in use") {
			t.Fatalf("instance %s exited at start:\n%s\n%s", in.name, in.proc.Logs, in.proc.Stderr)
		}
		*in = *s.launch(t, in.name)
	}
}

// stop ends in with SIGTERM and requires a clean exit.
func (in *acmeInstance) stop(t *testing.T) {
	t.Helper()
	in.proc.Signal(syscall.SIGTERM)
	if code := in.proc.Wait(20 * time.Second); code != 0 {
		t.Errorf("instance %s exited with %d after SIGTERM, want 0", in.name, code)
	}
}

// waitLeaf polls in's TLS listener until an HTTPS request for domain,
// trusting only Pebble's issuing root, reaches the backend, and returns
// the certificate served.
func (s *acmeProcessSetup) waitLeaf(t *testing.T, in *acmeInstance, domain string, deadline time.Time) *x509.Certificate {
	t.Helper()
	c := testkit.HTTPSClient(t, in.tlsL, testkit.HTTP1, &tls.Config{RootCAs: s.pebble.IssuerPool})
	for {
		res, err := c.Get("https://" + domain + "/")
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == 200 && string(body) == "app" {
				return res.TLS.PeerCertificates[0]
			}
			err = fmt.Errorf("status %d, body %q", res.StatusCode, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s serves no certificate for %s by the deadline: %v", in.name, domain, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// obtainedBy returns, for each domain, the instances that logged getting
// its certificate from the CA.
func obtainedBy(ins ...*acmeInstance) map[string][]string {
	out := map[string][]string{}
	for _, in := range ins {
		for _, e := range in.proc.Logs.Match("acme certificate obtained") {
			out[e.Str("domain")] = append(out[e.Str("domain")], in.name)
		}
	}
	return out
}

// distributedDomains lists the domains whose challenges in answered from
// the shared storage, having been started by another process: HTTP-01
// and TLS-ALPN-01 answers are logged by certmagic with different messages
// and keys.
func distributedDomains(in *acmeInstance) []string {
	var out []string
	for _, e := range in.proc.Logs.Match("", "distributed", true) {
		d := e.Str("identifier") + e.Str("server_name")
		switch e.Str("msg") {
		case "served key authentication", "served key authentication certificate":
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	slices.Sort(out)
	return out
}

// checkShared requires both instances to serve one certificate per domain
// (the same serial from either), one order per domain at the CA, one
// "obtained" line per domain across both logs and no failed attempt. It
// returns which instance obtained each domain.
func (s *acmeProcessSetup) checkShared(t *testing.T, a, b *acmeInstance, start time.Time) map[string][]string {
	t.Helper()
	deadline := start.Add(60 * time.Second)
	for _, d := range sharedDomains {
		la, lb := s.waitLeaf(t, a, d, deadline), s.waitLeaf(t, b, d, deadline)
		if la.SerialNumber.Cmp(lb.SerialNumber) != 0 {
			t.Errorf("%s: instance A serves serial %x, B serial %x; want the same certificate", d, la.SerialNumber, lb.SerialNumber)
		}
		if err := la.VerifyHostname(d); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
	t.Logf("both instances serve the same certificates %v after Pebble started", time.Since(start).Round(time.Millisecond))
	if n := s.pebble.NewOrders(); n != len(sharedDomains) {
		t.Errorf("%d new orders reached Pebble for %d domains and two instances, want one per domain", n, len(sharedDomains))
	}
	by := obtainedBy(a, b)
	for _, d := range sharedDomains {
		if len(by[d]) != 1 {
			t.Errorf("%s obtained by %v, want exactly one instance", d, by[d])
		}
	}
	for _, in := range []*acmeInstance{a, b} {
		if f := in.proc.Logs.Match("acme certificate failed; retrying with backoff"); len(f) > 0 {
			t.Errorf("instance %s had failed attempts: %v", in.name, f)
		}
	}
	return by
}

func newACMEProcessSetup(t *testing.T, bin, challenge string) *acmeProcessSetup {
	return &acmeProcessSetup{
		bin: bin, storage: t.TempDir(), dir: t.TempDir(), challenge: challenge,
		pebble:  testkit.NewPebble(t, 0),
		backend: testkit.NewBackend(t, "app", testkit.Echo()),
	}
}

// TestACMESharedStorageAcrossProcesses runs two gatehouse processes on one
// ACME storage directory with the same domains. Pebble validates against
// instance A's ports only, so a certificate that B orders is validated
// only if A answers B's challenge from the shared storage (certmagic's
// distributed solving). Pebble holds every ACME request until both
// instances listen, so no challenge is tried against a closed port.
func TestACMESharedStorageAcrossProcesses(t *testing.T) {
	t.Parallel()
	bin := testkit.TestBinary(t)

	// Both start together and race for certmagic's storage locks.
	t.Run("simultaneous", func(t *testing.T) {
		s := newACMEProcessSetup(t, bin, "")
		a, b := s.launch(t, "A"), s.launch(t, "B")
		s.ready(t, a)
		s.ready(t, b)
		start := time.Now()
		s.pebble.Start(portOf(t, a.plain), portOf(t, a.tlsL))
		by := s.checkShared(t, a, b, start)
		t.Logf("obtained by %v; A answered challenges of B from the storage for %v", by, distributedDomains(a))
		a.stop(t)
		b.stop(t)
	})

	// B holds both locks before A starts, so B orders both certificates
	// and A must answer every challenge from the storage: one subtest per
	// challenge type, as the two are solved by different code.
	for _, challenge := range []string{"http-01", "tls-alpn-01"} {
		t.Run("B orders, A answers "+challenge, func(t *testing.T) {
			s := newACMEProcessSetup(t, bin, challenge)
			b := s.launch(t, "B")
			s.ready(t, b)
			for _, d := range sharedDomains {
				b.proc.WaitLog(30*time.Second, "lock acquired", "identifier", d)
			}
			a := s.launch(t, "A")
			s.ready(t, a)
			start := time.Now()
			s.pebble.Start(portOf(t, a.plain), portOf(t, a.tlsL))
			by := s.checkShared(t, a, b, start)
			for _, d := range sharedDomains {
				if len(by[d]) != 1 || by[d][0] != "B" {
					t.Errorf("%s obtained by %v, want B, which held the lock", d, by[d])
				}
			}
			if got := distributedDomains(a); !slices.Equal(got, sharedDomains) {
				t.Errorf("A answered challenges from the shared storage for %v, want %v", got, sharedDomains)
			}
			a.stop(t)
			b.stop(t)
		})
	}
}

func writeConfig(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
