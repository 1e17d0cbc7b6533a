package tlsx_test

import (
	"crypto/tls"
	"net"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
	"github.com/gatehouse-proxy/gatehouse/tlsx"
)

// sniSet is a plan of four certificates, the wildcard listed before the
// exact name it overlaps, and an IP certificate last.
type sniSet struct {
	ca                    *testkit.CA
	def, wild, exact, ipc *testkit.Leaf
	m                     *tlsx.Manager
	plan                  *tlsx.Plan
}

func newSNISet(t *testing.T) *sniSet {
	ca := testkit.NewCA(t, "sni")
	s := &sniSet{
		ca:    ca,
		def:   ca.Issue([]string{"default.example.com"}, testkit.LeafOptions{}),
		wild:  ca.Issue([]string{"*.example.com"}, testkit.LeafOptions{}),
		exact: ca.Issue([]string{"a.example.com"}, testkit.LeafOptions{}),
		ipc:   ca.Issue([]string{"127.0.0.1", "ip.example.net"}, testkit.LeafOptions{}),
	}
	s.m, _ = newManager(t)
	s.plan = use(t, s.m, certOf(s.def), certOf(s.wild), certOf(s.exact), certOf(s.ipc))
	return s
}

func TestSNISelectionOverHandshakes(t *testing.T) {
	s := newSNISet(t)
	addr := managerServer(t, s.m, "127.0.0.1:0")
	tests := []struct {
		sni  string
		want *testkit.Leaf // nil: the handshake must fail
	}{
		{"a.example.com", s.exact}, // exact beats the wildcard listed before it
		{"b.example.com", s.wild},
		{"default.example.com", s.def},
		{"ip.example.net", s.ipc},
		{"x.b.example.com", nil}, // a wildcard covers one label only
		{"example.com", nil},     // nor the apex
		{"unknown.test", nil},
		{"", s.ipc}, // no SNI: the certificate naming the local address
	}
	for _, tc := range tests {
		t.Run("sni="+tc.sni, func(t *testing.T) {
			got, err := served(t, addr, tc.sni)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("handshake succeeded with %v, want it refused", got.DNSNames)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want.Cert) {
				t.Fatalf("served %v %v, want %v", got.DNSNames, got.IPAddresses, tc.want.Cert.DNSNames)
			}
		})
	}
	t.Run("verified by a real client", func(t *testing.T) {
		if _, err := handshake(addr, s.ca.ClientTLS("b.example.com", nil)); err != nil {
			t.Fatal(err)
		}
		if _, err := handshake(addr, s.ca.ClientTLS("127.0.0.1", nil)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestNoSNIOnAnotherAddressGetsFirstCertificate(t *testing.T) {
	s := newSNISet(t)
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("no second loopback address (127.0.0.2): %v", err)
	}
	ln.Close()
	addr := managerServer(t, s.m, "127.0.0.2:0")
	got, err := served(t, addr, "")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(s.def.Cert) {
		t.Fatalf("served %v %v, want the first certificate", got.DNSNames, got.IPAddresses)
	}
}

func TestGetCertificateNames(t *testing.T) {
	s := newSNISet(t)
	tests := []struct {
		sni     string
		want    *testkit.Leaf
		wantErr string
	}{
		{sni: "A.Example.COM.", want: s.exact},
		{sni: "B.EXAMPLE.com", want: s.wild},
		{sni: "127.0.0.1", want: s.ipc}, // IP literal SNI, no connection to ask
		{sni: "10.1.1.1", want: s.def},
		{sni: "", want: s.def},
		{sni: "nope.test", wantErr: "no certificate for nope.test"},
		{sni: ".example.com", wantErr: "no certificate for .example.com"},
		{sni: "a.b.example.com", wantErr: "no certificate for a.b.example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.sni, func(t *testing.T) {
			c, err := s.m.GetCertificate(&tls.ClientHelloInfo{ServerName: tc.sni})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !c.Leaf.Equal(tc.want.Cert) {
				t.Fatalf("got %v, want %v", c.Leaf.DNSNames, tc.want.Cert.DNSNames)
			}
		})
	}
}

func TestGetCertificateBeforeUse(t *testing.T) {
	m, _ := newManager(t)
	if _, err := m.GetCertificate(&tls.ClientHelloInfo{ServerName: "a.test"}); err == nil {
		t.Fatal("a manager with no plan served a certificate")
	}
	if m.Current() != nil || m.Current().Covers("a.test") {
		t.Fatal("no plan should be current and cover nothing")
	}
}

func TestCovers(t *testing.T) {
	s := newSNISet(t)
	if s.m.Current() != s.plan {
		t.Fatal("Current is not the plan in use")
	}
	for host, want := range map[string]bool{
		"a.example.com": true, "B.Example.com.": true, "default.example.com": true,
		"127.0.0.1": true, "[127.0.0.1]": true, "ip.example.net": true,
		"x.b.example.com": false, "example.com": false, "other.test": false,
		"127.0.0.2": false, "": false,
	} {
		if got := s.plan.Covers(host); got != want {
			t.Errorf("Covers(%q) = %v, want %v", host, got, want)
		}
	}
}

// The handshake path must not allocate: the name index is precompiled.
func TestGetCertificateAllocationFree(t *testing.T) {
	s := newSNISet(t)
	for _, sni := range []string{"a.example.com", "b.example.com", "", "127.0.0.1"} {
		hello := &tls.ClientHelloInfo{ServerName: sni}
		if n := testing.AllocsPerRun(200, func() { s.m.GetCertificate(hello) }); n != 0 {
			t.Errorf("GetCertificate(%q) allocates %v times", sni, n)
		}
	}
}

func BenchmarkGetCertificate(b *testing.B) {
	ca := testkit.NewCA(b, "bench")
	m := tlsx.NewManager(nil, nil)
	defer m.Close()
	p, err := m.Prepare(certsConfig(
		ca.Issue([]string{"a.example.com"}, testkit.LeafOptions{}),
		ca.Issue([]string{"*.example.com"}, testkit.LeafOptions{}),
	), "")
	if err != nil {
		b.Fatal(err)
	}
	m.Use(p)
	for _, sni := range []string{"a.example.com", "wild.example.com"} {
		hello := &tls.ClientHelloInfo{ServerName: sni}
		b.Run(sni, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := m.GetCertificate(hello); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
