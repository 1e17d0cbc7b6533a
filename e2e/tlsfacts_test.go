package e2e

import (
	"crypto/tls"
	"io"
	"net/http"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// tlsAndPlain is a TLS listener (the harness's first) and a plain one at
// 127.0.0.2 that serves instead of redirecting to HTTPS.
const tlsAndPlain = `
listeners:
  - {address: "${LISTEN}", tls: {}}
  - {address: "127.0.0.2:0", redirect_https: false}
`

// newFactsSetup issues a certificate for site.test, *.site.test and
// *.b.site.test, so one-label wildcard tests can name a.b.site.test.
func newFactsSetup(t *testing.T, backendURL string) *tlsSetup {
	ca := testkit.NewCA(t, "e2e CA")
	leaf := ca.Issue([]string{"site.test", "*.site.test", "*.b.site.test"}, testkit.LeafOptions{})
	return &tlsSetup{ca: ca, leaf: leaf, vars: testkit.Vars{"B": backendURL, "CERT": leaf.CertFile, "KEY": leaf.KeyFile}}
}

// fetch sends GET url with c and returns the status and body; a transport
// error fails the test.
func fetch(t *testing.T, c *http.Client, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		} else {
			req.Header.Add(header[i], header[i+1])
		}
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return res, string(b)
}

// TestRouteByTLSFacts routes on SNI (exact and one-label wildcard) and on
// the TLS version; a plain HTTP request never matches a tls route.
func TestRouteByTLSFacts(t *testing.T) {
	t.Parallel()
	s := newFactsSetup(t, "http://127.0.0.1:9")
	g := testkit.Start(t, tlsAndPlain+tlsCerts+`
routes:
  - {name: api, match: {tls: {sni: [api.site.test]}}, respond: {body: sni-api}}
  - {name: wild, match: {tls: {sni: ["*.site.test"]}}, respond: {body: sni-wild}}
  - {name: old, match: {path: /v, tls: {versions: ["1.2"]}}, respond: {body: tls12}}
  - {name: new, match: {path: /v, tls: {versions: ["1.3"]}}, respond: {body: tls13}}
  - {name: chacha, match: {path: /c, tls: {ciphers: [TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256]}}, respond: {body: chacha}}
  - {name: any, respond: {body: any}}
`, s.vars)
	tls12 := s.ca.ClientTLS("", nil)
	tls12.MaxVersion = tls.VersionTLS12
	chacha := s.ca.ClientTLS("", nil)
	chacha.MaxVersion = tls.VersionTLS12
	chacha.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305}
	aes := s.ca.ClientTLS("", nil)
	aes.MaxVersion = tls.VersionTLS12
	aes.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
	tests := []struct {
		name, sni, url string
		conf           *tls.Config
		want           string
	}{
		{"exact sni", "api.site.test", "https://api.site.test/", nil, "sni-api"},
		{"sni in another case", "API.Site.Test", "https://api.site.test/", nil, "sni-api"},
		{"sni decides, not Host", "api.site.test", "https://other.site.test/", nil, "sni-api"},
		{"wildcard sni", "x.site.test", "https://x.site.test/", nil, "sni-wild"},
		{"wildcard covers one label", "a.b.site.test", "https://a.b.site.test/", nil, "any"},
		{"wildcard is not the apex", "site.test", "https://site.test/", nil, "any"},
		{"tls 1.3", "site.test", "https://site.test/v", nil, "tls13"},
		{"tls 1.2", "site.test", "https://site.test/v", tls12, "tls12"},
		{"cipher", "site.test", "https://site.test/c", chacha, "chacha"},
		{"other cipher", "site.test", "https://site.test/c", aes, "any"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conf := tt.conf
			if conf == nil {
				conf = s.ca.ClientTLS("", nil)
			}
			conf.ServerName = tt.sni
			c := testkit.HTTPSClient(t, g.Addr, testkit.HTTP1, conf)
			if res, body := fetch(t, c, tt.url); res.StatusCode != 200 || body != tt.want {
				t.Errorf("got %d %q, want %q", res.StatusCode, body, tt.want)
			}
		})
	}
	plain := "http://" + g.AddrOf("127.0.0.2:0")
	for _, host := range []string{"api.site.test", "x.site.test", "site.test"} {
		for _, path := range []string{"/", "/v"} {
			if res, body := fetch(t, testkit.NewClient(), plain+path, "Host", host); body != "any" {
				t.Errorf("plain HTTP %s%s: got %d %q, want any: a tls route matched", host, path, res.StatusCode, body)
			}
		}
	}
}

// TestPlaceholdersInHeaders: TLS facts and the client address reach the
// backend through request_headers and the client through
// response_headers, over HTTP/1.1 and HTTP/2; on plain HTTP the TLS ones
// are left out.
func TestPlaceholdersInHeaders(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	s := newFactsSetup(t, b.URL)
	clientCA := testkit.NewCA(t, "client CA")
	alice := clientCA.Issue([]string{"alice"}, testkit.LeafOptions{Client: true})
	s.vars["CLIENT_CA"] = clientCA.CertFile
	ops := `{set: {X-Tls: "{tls_version} {tls_cipher} {tls_sni} {tls_alpn}", X-Who: "{tls_client_subject}",
      X-Verify: "{tls_client_verified}", X-Client: "ip={client_ip} {scheme}"}}`
	g := testkit.Start(t, `
listeners:
  - {address: "${LISTEN}", tls: {client_auth: {mode: request, ca: "${CLIENT_CA}"}}}
  - {address: "127.0.0.2:0", redirect_https: false}
`+tlsCerts+`
routes:
  - upstream: "${B}"
    request_headers: `+ops+`
    response_headers: `+ops+`
`, s.vars)
	want := map[string]http.Header{
		// Go's HTTP/1.1-only client offers no ALPN: the value's end is empty.
		"HTTP/1.1": {"X-Tls": {"1.3 TLS_AES_128_GCM_SHA256 site.test"}, "X-Who": {"CN=alice,O=Gatehouse tests"},
			"X-Verify": {"SUCCESS"}, "X-Client": {"ip=127.0.0.1 https"}},
		"HTTP/2.0": {"X-Tls": {"1.3 TLS_AES_128_GCM_SHA256 site.test h2"}, "X-Who": {"CN=alice,O=Gatehouse tests"},
			"X-Verify": {"SUCCESS"}, "X-Client": {"ip=127.0.0.1 https"}},
		"plain": {"X-Client": {"ip=127.0.0.1 http"}},
	}
	// One tls.Config each: a transport adds its ALPN protocols to its own.
	conf := func() *tls.Config { return withClientCert(s.ca.ClientTLS("site.test", nil), alice) }
	clients := map[string]*http.Client{
		"HTTP/1.1": testkit.HTTPSClient(t, g.Addr, testkit.HTTP1, conf()),
		"HTTP/2.0": testkit.HTTPSClient(t, g.Addr, testkit.HTTP2, conf()),
		"plain":    testkit.NewClient(),
	}
	for name, c := range clients {
		url := "https://site.test/x"
		if name == "plain" {
			url = "http://" + g.AddrOf("127.0.0.2:0") + "/x"
		}
		res, _ := fetch(t, c, url, "X-Who", "forged", "X-Verify", "SUCCESS")
		for k, v := range want[name] {
			check(t, b.Last().Header, k, v[0])
			check(t, res.Header, k, v[0])
		}
		for _, k := range []string{"X-Tls", "X-Who", "X-Verify"} {
			if _, ok := want[name][k]; ok {
				continue
			}
			if v, ok := b.Last().Header[k]; ok {
				t.Errorf("%s: backend got %s %q, want none (an empty set removes the client's copy)", name, k, v)
			}
			if v, ok := res.Header[k]; ok {
				t.Errorf("%s: client got %s %q, want none", name, k, v)
			}
		}
	}
}

// TestPlaceholderTLS12Cipher shows {tls_cipher} names a TLS 1.2 suite.
func TestPlaceholderTLS12Cipher(t *testing.T) {
	t.Parallel()
	s := newFactsSetup(t, "http://127.0.0.1:9")
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", tls: {}}]
`+tlsCerts+`
routes: [{respond: {body: ok}, response_headers: {set: {X-Tls: "{tls_version}/{tls_cipher}"}}}]
`, s.vars)
	conf := s.ca.ClientTLS("site.test", nil)
	conf.MaxVersion = tls.VersionTLS12
	conf.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}
	res, _ := fetch(t, testkit.HTTPSClient(t, g.Addr, testkit.HTTP1, conf), "https://site.test/")
	if got := res.Header.Get("X-Tls"); got != "1.2/TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" {
		t.Errorf("X-Tls %q, want 1.2/TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", got)
	}
}

// withClientCert makes conf always present leaf, as curl does, even when
// the server's list of acceptable CAs does not name its issuer (Go's
// client would then send none).
func withClientCert(conf *tls.Config, leaf *testkit.Leaf) *tls.Config {
	cert := leaf.TLS
	conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	return conf
}
