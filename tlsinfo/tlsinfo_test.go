package tlsinfo_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
	"github.com/gatehouse-proxy/gatehouse/tlsinfo"
)

// facts is what the test server reports about each request.
type facts struct {
	Version, Cipher, SNI, ALPN           string
	Subject, Issuer, Serial, Fingerprint string
	Status, Proto, VerifiedSubject       string
	Listener, Other                      bool // Verified(r, nil), Verified(r, other)
	HasConn                              bool // ConnContext state reached the request
	Verifications                        int
}

// server is a real TLS server whose connections carry ConnContext state,
// and which answers every request with its facts as JSON.
type server struct {
	*httptest.Server
	ca    *testkit.CA
	other *x509.CertPool // a second pool handlers verify against
}

// opts configure newServer: the listener's client_auth mode and CA (nil
// for none), a second pool handlers also verify against, whether HTTP/2
// is offered, and whether ConnContext is left out.
type opts struct {
	mode              tls.ClientAuthType
	listenerCA, other *x509.CertPool
	h2, noState       bool
}

// newServer starts a TLS server for "example.test" as o says.
func newServer(t *testing.T, o opts) *server {
	t.Helper()
	ca := testkit.NewCA(t, "server CA")
	leaf := ca.Issue([]string{"example.test", "127.0.0.1"}, testkit.LeafOptions{})
	s := &server{ca: ca, other: o.other}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{leaf.TLS}, ClientAuth: o.mode, ClientCAs: o.listenerCA}
	if !o.noState {
		s.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
			return tlsinfo.ConnContext(ctx, o.listenerCA)
		}
	}
	s.EnableHTTP2 = o.h2
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	f := facts{
		Version: tlsinfo.Version(r.TLS), Cipher: tlsinfo.Cipher(r.TLS), SNI: tlsinfo.SNI(r.TLS), ALPN: tlsinfo.ALPN(r.TLS),
		Subject: tlsinfo.ClientSubject(r.TLS), Issuer: tlsinfo.ClientIssuer(r.TLS),
		Serial: tlsinfo.ClientSerial(r.TLS), Fingerprint: tlsinfo.ClientFingerprint(r.TLS),
		Status: tlsinfo.VerifyStatus(r), Listener: tlsinfo.Verified(r, nil), Proto: r.Proto,
		VerifiedSubject: tlsinfo.VerifiedSubject(r),
	}
	if s.other != nil {
		f.Other = tlsinfo.Verified(r, s.other)
	}
	f.Verifications = tlsinfo.Verifications(r.Context())
	f.HasConn = f.Verifications >= 0
	_ = json.NewEncoder(w).Encode(f)
}

// client returns an HTTP client for s with the given TLS settings. A
// certificate in cfg is always sent, even when the server's list of
// acceptable CAs does not name its issuer (as curl does).
func (s *server) client(cfg *tls.Config, h2 bool) *http.Client {
	if len(cfg.Certificates) > 0 {
		cert := &cfg.Certificates[0]
		cfg.Certificates = nil
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	cfg.RootCAs = s.ca.Pool
	if cfg.ServerName == "" {
		cfg.ServerName = "example.test"
	}
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: h2}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func get(t *testing.T, c *http.Client, url string) facts {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var f facts
	if err := json.NewDecoder(res.Body).Decode(&f); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFacts(t *testing.T) {
	clientCA := testkit.NewCA(t, "client CA")
	alice := clientCA.Issue([]string{"alice"}, testkit.LeafOptions{Client: true})
	s := newServer(t, opts{mode: tls.RequestClientCert, listenerCA: clientCA.Pool, h2: true})
	sum := sha256.Sum256(alice.Cert.Raw)
	tests := []struct {
		name string
		cfg  *tls.Config
		h2   bool
		want facts
	}{
		{"tls13 h2 with cert", &tls.Config{Certificates: []tls.Certificate{alice.TLS}}, true, facts{
			Version: "1.3", Cipher: "TLS_AES_128_GCM_SHA256", SNI: "example.test", ALPN: "h2",
			Subject: "CN=alice,O=Gatehouse tests", Issuer: "CN=client CA,O=Gatehouse tests",
			Serial: alice.Cert.SerialNumber.Text(16), Fingerprint: hex.EncodeToString(sum[:]),
			Status: "SUCCESS", Listener: true, VerifiedSubject: "CN=alice,O=Gatehouse tests",
		}},
		{"tls12 http1 no cert", &tls.Config{MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}}, false, facts{
			Version: "1.2", Cipher: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", SNI: "example.test",
			Status: "NONE", // the client offered no ALPN protocol
		}},
		{"other sni", &tls.Config{ServerName: "Other.Example.Test", InsecureSkipVerify: true}, false, facts{
			Version: "1.3", Cipher: "TLS_AES_128_GCM_SHA256", SNI: "Other.Example.Test", Status: "NONE",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := get(t, s.client(tt.cfg, tt.h2), s.URL)
			got.Verifications, got.HasConn, got.Proto = 0, false, ""
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestFactsPlainHTTP(t *testing.T) {
	r := httptest.NewRequest("GET", "http://example.test/", nil)
	for name, got := range map[string]string{
		"version": tlsinfo.Version(r.TLS), "cipher": tlsinfo.Cipher(r.TLS), "sni": tlsinfo.SNI(r.TLS), "alpn": tlsinfo.ALPN(r.TLS),
		"subject": tlsinfo.ClientSubject(r.TLS), "issuer": tlsinfo.ClientIssuer(r.TLS), "serial": tlsinfo.ClientSerial(r.TLS),
		"fingerprint": tlsinfo.ClientFingerprint(r.TLS), "status": tlsinfo.VerifyStatus(r),
	} {
		if got != "" {
			t.Errorf("%s on plain HTTP: %q, want empty", name, got)
		}
	}
	if tlsinfo.Verified(r, nil) || tlsinfo.Verified(r, x509.NewCertPool()) {
		t.Error("plain HTTP request verified")
	}
}

// TestFactsEscapeControlCharacters: names a client chose cannot put a
// control character into a header.
func TestFactsEscapeControlCharacters(t *testing.T) {
	cert := &x509.Certificate{
		Subject: pkix.Name{CommonName: "eve\r\nX-Admin: 1", Organization: []string{"tab\tok\x7f"}},
		Issuer:  pkix.Name{CommonName: "ca\x00"},
	}
	cs := &tls.ConnectionState{ServerName: "a\nb", PeerCertificates: []*x509.Certificate{cert}}
	for name, tt := range map[string]struct{ got, want string }{
		"subject": {tlsinfo.ClientSubject(cs), `CN=eve\0D\0AX-Admin: 1,O=tab` + "\t" + `ok\7F`},
		"issuer":  {tlsinfo.ClientIssuer(cs), `CN=ca\00`},
		"sni":     {tlsinfo.SNI(cs), `a\0Ab`},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", name, tt.got, tt.want)
		}
	}
}
