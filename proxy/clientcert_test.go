package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// TestClientCertHeader: the header carries only the verified subject. A
// client's copy never passes, in any spelling, and naming the header in
// Connection cannot remove the verified one.
func TestClientCertHeader(t *testing.T) {
	verified := func() *tls.ConnectionState {
		cert := &x509.Certificate{Subject: pkix.Name{CommonName: "alice"}, NotAfter: time.Now().Add(time.Hour)}
		return &tls.ConnectionState{Version: tls.VersionTLS13, PeerCertificates: []*x509.Certificate{cert}, VerifiedChains: [][]*x509.Certificate{{cert}}}
	}
	unverified := func() *tls.ConnectionState {
		cert := &x509.Certificate{Subject: pkix.Name{CommonName: "mallory"}, NotAfter: time.Now().Add(time.Hour)}
		return &tls.ConnectionState{Version: tls.VersionTLS13, PeerCertificates: []*x509.Certificate{cert}}
	}
	tests := []struct {
		name        string
		tls         *tls.ConnectionState
		in          http.Header
		underscores bool
		want        []string // nil: absent
	}{
		{"verified", verified(), http.Header{}, false, []string{"CN=alice"}},
		{"verified, forged copy", verified(), http.Header{"X-Client-Subject": {"CN=root"}}, false, []string{"CN=alice"}},
		{"verified, named in Connection", verified(), http.Header{"Connection": {"X-Client-Subject"}}, false, []string{"CN=alice"}},
		{"unverified, forged copy", unverified(), http.Header{"X-Client-Subject": {"CN=root"}}, false, nil},
		{"plain, forged copy", nil, http.Header{"X-Client-Subject": {"CN=root"}}, false, nil},
		{"plain, underscore spelling", nil, http.Header{"X_client_subject": {"CN=root"}}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{Header: tt.in, Host: "example.com", TLS: tt.tls, ProtoMajor: 1, ProtoMinor: 1}
			info := &reqinfo.Info{Peer: netip.MustParseAddr("10.0.0.2"), Scheme: "https", RequestID: "rid"}
			f := Forwarding{RequestIDHeader: "X-Request-Id", ClientCertHeader: "X-Client-Subject", UnderscoresInHeaders: tt.underscores}
			out := f.outboundHeader(r, info, "")
			got, ok := out["X-Client-Subject"]
			if ok != (tt.want != nil) || ok && (len(got) != 1 || got[0] != tt.want[0]) {
				t.Errorf("X-Client-Subject %q, want %q", got, tt.want)
			}
			if v, ok := out["X_client_subject"]; ok {
				t.Errorf("underscore spelling forwarded: %q", v)
			}
			if tt.in.Get("X-Client-Subject") != "" && out["X-Client-Subject"] != nil && &out["X-Client-Subject"][0] == &tt.in["X-Client-Subject"][0] {
				t.Error("the client's value slice was forwarded")
			}
		})
	}
}
