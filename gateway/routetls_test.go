package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"net/http/httptest"
	"slices"
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
		if got := tlsCond(&tt.m)(tt.r); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if tlsCond(nil) != nil {
		t.Error("no tls block should compile to no condition")
	}
}

// Config owns the match.tls names; each it accepts means something here.
func TestTLSMatchNamesAgree(t *testing.T) {
	for _, v := range config.TLSVersions() {
		id, ok := config.TLSVersionID(v)
		if !ok || tlsinfo.Version(&tls.ConnectionState{Version: id}) != v {
			t.Errorf("TLS version %q: id %#x, %v; the routed request would report another", v, id, ok)
		}
	}
	if got := config.ClientCertMatches(); !slices.Equal(got, []string{"verified", "none"}) {
		t.Errorf("client_cert values %q: tlsCond knows verified and none", got)
	}
	for _, bad := range []string{"1.1", "1.0", "yes"} {
		if _, ok := config.TLSVersionID(bad); ok {
			t.Errorf("TLSVersionID(%q) accepted", bad)
		}
	}
}
