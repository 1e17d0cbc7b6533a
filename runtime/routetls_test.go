package runtime

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/tlsinfo"
)

func TestSNINames(t *testing.T) {
	s := compileSNI([]string{"API.example.com", "*.Example.org", "exact.test."})
	for name, want := range map[string]bool{
		"api.example.com": true, "Api.Example.Com": true, "x.example.com": false,
		"a.example.org": true, "A.EXAMPLE.ORG": true, "a.b.example.org": false, "example.org": false,
		".example.org": false, "exact.test": true, "": false,
	} {
		if got := s.match(name); got != want {
			t.Errorf("match(%q) = %v, want %v", name, got, want)
		}
	}
}

// tlsRequest is a request over TLS with version v and SNI sni; verified
// says whether the handshake verified a client certificate.
func tlsRequest(v uint16, sni string, verified bool) *http.Request {
	r := httptest.NewRequest("GET", "https://x/", nil)
	r.TLS = &tls.ConnectionState{Version: v, ServerName: sni}
	if verified {
		cert := &x509.Certificate{Subject: pkix.Name{CommonName: "alice"}, NotAfter: time.Now().Add(time.Hour)}
		r.TLS.PeerCertificates = []*x509.Certificate{cert}
		r.TLS.VerifiedChains = [][]*x509.Certificate{{cert}}
	}
	return r
}

func TestTLSCond(t *testing.T) {
	plain := httptest.NewRequest("GET", "http://x/", nil)
	tests := []struct {
		name string
		m    config.MatchTLS
		r    *http.Request
		want bool
	}{
		{"empty block needs TLS", config.MatchTLS{}, plain, false},
		{"empty block", config.MatchTLS{}, tlsRequest(tls.VersionTLS13, "", false), true},
		{"version", config.MatchTLS{Versions: config.Strings{"1.2"}}, tlsRequest(tls.VersionTLS12, "", false), true},
		{"other version", config.MatchTLS{Versions: config.Strings{"1.2"}}, tlsRequest(tls.VersionTLS13, "", false), false},
		{"sni", config.MatchTLS{SNI: config.Strings{"a.test"}}, tlsRequest(tls.VersionTLS13, "a.test", false), true},
		{"no sni sent", config.MatchTLS{SNI: config.Strings{"a.test"}}, tlsRequest(tls.VersionTLS13, "", false), false},
		{"verified", config.MatchTLS{ClientCert: "verified"}, tlsRequest(tls.VersionTLS13, "", true), true},
		{"not verified", config.MatchTLS{ClientCert: "verified"}, tlsRequest(tls.VersionTLS13, "", false), false},
		{"none", config.MatchTLS{ClientCert: "none"}, tlsRequest(tls.VersionTLS13, "", false), true},
		{"none but verified", config.MatchTLS{ClientCert: "none"}, tlsRequest(tls.VersionTLS13, "", true), false},
		{"none needs TLS", config.MatchTLS{ClientCert: "none"}, plain, false},
		{"all", config.MatchTLS{SNI: config.Strings{"*.test"}, Versions: config.Strings{"1.2", "1.3"}, ClientCert: "verified"},
			tlsRequest(tls.VersionTLS12, "b.test", true), true},
	}
	for _, tt := range tests {
		cond, err := tlsCond(&tt.m)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := cond(tt.r); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if cond, err := tlsCond(nil); cond != nil || err != nil {
		t.Error("no tls block should compile to no condition")
	}
	for _, bad := range []config.MatchTLS{{Versions: config.Strings{"1.1"}}, {ClientCert: "yes"}} {
		if _, err := tlsCond(&bad); err == nil {
			t.Errorf("%+v compiled, want an error", bad)
		}
	}
}

// TestCertHeader: the header is replaced by the verified subject or
// removed, on a copy; the inbound request is never changed, and a request
// with nothing to change is passed on as it is.
func TestCertHeader(t *testing.T) {
	var got *http.Request
	h := certHeader("X-Client-Subject")(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r }))
	tests := []struct {
		name   string
		r      *http.Request
		forged bool
		want   []string // nil: absent
	}{
		{"verified", tlsRequest(tls.VersionTLS13, "", true), false, []string{"CN=alice"}},
		{"verified, forged copy", tlsRequest(tls.VersionTLS13, "", true), true, []string{"CN=alice"}},
		{"unverified, forged copy", tlsRequest(tls.VersionTLS13, "", false), true, nil},
		{"plain, forged copy", httptest.NewRequest("GET", "http://x/", nil), true, nil},
		{"plain", httptest.NewRequest("GET", "http://x/", nil), false, nil},
	}
	for _, tt := range tests {
		if tt.forged {
			tt.r.Header["X-Client-Subject"] = []string{"CN=root", "CN=admin"}
		}
		before := tt.r.Header.Clone()
		h.ServeHTTP(httptest.NewRecorder(), tt.r)
		if v, ok := got.Header["X-Client-Subject"]; ok != (tt.want != nil) || ok && (len(v) != 1 || v[0] != tt.want[0]) {
			t.Errorf("%s: passed on %q, want %q", tt.name, v, tt.want)
		}
		if len(tt.r.Header) != len(before) || tt.r.Header.Get("X-Client-Subject") != before.Get("X-Client-Subject") {
			t.Errorf("%s: the inbound header changed: %v, was %v", tt.name, tt.r.Header, before)
		}
		if changed := tt.forged || tt.want != nil; (got != tt.r) != changed {
			t.Errorf("%s: copied %v, want %v", tt.name, got != tt.r, changed)
		}
	}
}

func BenchmarkCertHeader(b *testing.B) {
	h := certHeader("X-Client-Subject")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for name, r := range map[string]*http.Request{
		"plain":                      httptest.NewRequest("GET", "http://x/", nil),
		"verified":                   tlsRequest(tls.VersionTLS13, "", true),
		"verified, connection state": tlsRequest(tls.VersionTLS13, "", true).WithContext(tlsinfo.ConnContext(context.Background(), nil)),
	} {
		r.Header = http.Header{"Accept": {"*/*"}, "User-Agent": {"bench"}, "Accept-Encoding": {"gzip"}}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(nil, r)
			}
		})
	}
}
