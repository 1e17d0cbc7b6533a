package e2e

import (
	"crypto/tls"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// mtlsSetup is a server certificate for site.test, a client CA "good"
// that listeners trust, another one "other", and a client certificate
// from each: alice (good) and mallory (other).
type mtlsSetup struct {
	*tlsSetup
	alice, mallory *testkit.Leaf
	goodCA         *testkit.CA
}

const aliceSubject = "CN=alice,O=Gatehouse tests"

func newMTLSSetup(t *testing.T, backendURL string) *mtlsSetup {
	s := &mtlsSetup{tlsSetup: newTLSSetup(t, backendURL)}
	good, other := testkit.NewCA(t, "good clients"), testkit.NewCA(t, "other clients")
	s.goodCA = good
	s.alice = good.Issue([]string{"alice"}, testkit.LeafOptions{Client: true})
	s.mallory = other.Issue([]string{"mallory"}, testkit.LeafOptions{Client: true})
	s.vars["GOOD_CA"], s.vars["OTHER_CA"] = good.CertFile, other.CertFile
	return s
}

// client returns a client for g's TLS listener presenting leaf (nil for
// no certificate).
func (s *mtlsSetup) client(t *testing.T, g *testkit.Gatehouse, p testkit.Protocol, leaf *testkit.Leaf) *http.Client {
	conf := s.ca.ClientTLS("site.test", nil)
	if leaf != nil {
		conf = withClientCert(conf, leaf)
	}
	return testkit.HTTPSClient(t, g.Addr, p, conf)
}

// TestClientCertHeader: the configured header carries the subject of a
// verified certificate to the backend, over HTTP/1.1, HTTP/2 and HTTP/3;
// a client's own copy never gets through, with an unverified certificate,
// without one, or over plain HTTP; the route's header rules still
// override it.
func TestClientCertHeader(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	s := newMTLSSetup(t, b.URL)
	g := testkit.Start(t, `
listeners:
  - {address: "${LISTEN}", http3: true, tls: {client_auth: {mode: request, ca: "${GOOD_CA}"}}}
  - {address: "127.0.0.2:0", redirect_https: false}
forwarding: {client_cert_header: x-client-subject}
`+tlsCerts+`
routes:
  - {match: {path: /override}, upstream: "${B}", request_headers: {set: {X-Client-Subject: "set by the operator"}}}
  - {upstream: "${B}"}
`, s.vars)
	plain := "http://" + g.AddrOf("127.0.0.2:0")
	tests := []struct {
		name string
		c    *http.Client
		url  string
		want string // "" means absent
	}{
		{"verified http1", s.client(t, g, testkit.HTTP1, s.alice), "https://site.test/x", aliceSubject},
		{"verified http2", s.client(t, g, testkit.HTTP2, s.alice), "https://site.test/x", aliceSubject},
		{"verified http3", s.client(t, g, testkit.HTTP3, s.alice), "https://site.test/x", aliceSubject},
		{"unverified", s.client(t, g, testkit.HTTP1, s.mallory), "https://site.test/x", ""},
		{"unverified http3", s.client(t, g, testkit.HTTP3, s.mallory), "https://site.test/x", ""},
		{"no certificate", s.client(t, g, testkit.HTTP2, nil), "https://site.test/x", ""},
		{"plain http", testkit.NewClient(), plain + "/x", ""},
		{"operator override", s.client(t, g, testkit.HTTP1, s.alice), "https://site.test/override", "set by the operator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := fetch(t, tt.c, tt.url, "X-Client-Subject", "CN=admin", "X-Client-Subject", "CN=root")
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			got, ok := b.Last().Header["X-Client-Subject"]
			switch {
			case tt.want == "" && ok:
				t.Errorf("backend got X-Client-Subject %q, want none", got)
			case tt.want != "" && (len(got) != 1 || got[0] != tt.want):
				t.Errorf("backend got X-Client-Subject %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRouteClientAuth: on a listener that requests certificates, a client
// with a certificate from the wrong CA completes the handshake and is
// served where no certificate is needed (seen as FAILED), but a route with
// client_auth answers 403 without reaching the backend. A route's own CA
// decides for that route.
func TestRouteClientAuth(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	s := newMTLSSetup(t, b.URL)
	g := testkit.Start(t, `
listeners:
  - {address: "${LISTEN}", tls: {client_auth: {mode: request, ca: "${GOOD_CA}"}}}
  - {address: "127.0.0.2:0", redirect_https: false}
`+tlsCerts+`
routes:
  - {match: {path: /secure}, upstream: "${B}", client_auth: {ca: "${GOOD_CA}"}}
  - {match: {path: /partner}, upstream: "${B}", client_auth: {ca: "${OTHER_CA}"}}
  - {upstream: "${B}", request_headers: {set: {X-Verify: "{tls_client_verified}"}}}
`, s.vars)
	alice, mallory := s.client(t, g, testkit.HTTP1, s.alice), s.client(t, g, testkit.HTTP2, s.mallory)
	nobody, plain := s.client(t, g, testkit.HTTP1, nil), testkit.NewClient()
	plainURL := "http://" + g.AddrOf("127.0.0.2:0")
	tests := []struct {
		name   string
		c      *http.Client
		url    string
		status int
		verify string // X-Verify the backend sees on the open route
	}{
		{"wrong CA, open route", mallory, "https://site.test/open", 200, "FAILED"},
		{"wrong CA, secure route", mallory, "https://site.test/secure", 403, ""},
		{"wrong CA, its own route", mallory, "https://site.test/partner", 200, ""},
		{"verified, open route", alice, "https://site.test/open", 200, "SUCCESS"},
		{"verified, secure route", alice, "https://site.test/secure/x", 200, ""},
		{"verified, other CA's route", alice, "https://site.test/partner", 403, ""},
		{"no certificate, open route", nobody, "https://site.test/open", 200, "NONE"},
		{"no certificate, secure route", nobody, "https://site.test/secure", 403, ""},
		{"plain http, secure route", plain, plainURL + "/secure", 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits := b.Hits()
			res, body := fetch(t, tt.c, tt.url)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d %q, want %d", res.StatusCode, body, tt.status)
			}
			if tt.status == 403 {
				if b.Hits() != hits {
					t.Error("a refused request reached the backend")
				}
				if !strings.HasPrefix(body, "403 ") || !strings.Contains(body, "certificate") {
					t.Errorf("body %q, want the funnel's 403 text naming the certificate", body)
				}
				return
			}
			if tt.verify != "" {
				check(t, b.Last().Header, "X-Verify", tt.verify)
			}
		})
	}
	res, body := fetch(t, mallory, "https://site.test/secure", "Accept", "application/json")
	if res.StatusCode != 403 || !strings.HasPrefix(body, `{"status":403,`) || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("JSON 403: %d %s %q", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}

// TestRequireModeRefusesHandshake: a listener in require mode refuses the
// handshake without a certificate from its CA, and serves one with it.
func TestRequireModeRefusesHandshake(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	s := newMTLSSetup(t, b.URL)
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", tls: {client_auth: {mode: require, ca: "${GOOD_CA}"}}}]
`+tlsCerts+`
routes: [{upstream: "${B}", request_headers: {set: {X-Verify: "{tls_client_verified}", X-Who: "{tls_client_subject}"}}}]
`, s.vars)
	for name, leaf := range map[string]*testkit.Leaf{"no certificate": nil, "wrong CA": s.mallory} {
		for _, p := range []testkit.Protocol{testkit.HTTP1, testkit.HTTP2} {
			res, err := s.client(t, g, p, leaf).Get("https://site.test/")
			if err == nil {
				res.Body.Close()
				t.Errorf("%s over %v: got %d, want the handshake refused", name, p, res.StatusCode)
			}
		}
	}
	if b.Hits() != 0 {
		t.Errorf("the backend got %d requests from refused clients", b.Hits())
	}
	res, _ := fetch(t, s.client(t, g, testkit.HTTP2, s.alice), "https://site.test/")
	if res.StatusCode != 200 {
		t.Fatalf("verified client: status %d", res.StatusCode)
	}
	check(t, b.Last().Header, "X-Verify", "SUCCESS")
	check(t, b.Last().Header, "X-Who", aliceSubject)
}

// TestMatchClientCert routes on whether the certificate verified.
func TestMatchClientCert(t *testing.T) {
	t.Parallel()
	s := newMTLSSetup(t, "http://127.0.0.1:9")
	g := testkit.Start(t, `
listeners:
  - {address: "${LISTEN}", tls: {client_auth: {mode: request, ca: "${GOOD_CA}"}}}
  - {address: "127.0.0.2:0", redirect_https: false}
`+tlsCerts+`
routes:
  - {name: bob, match: {tls: {client_subject: ["CN=bob,O=Gatehouse tests"]}}, respond: {body: bob}}
  - {name: member, match: {tls: {client_cert: verified}}, respond: {body: member}}
  - {name: guest, match: {tls: {client_cert: none}}, respond: {body: guest}}
  - {name: plain, respond: {body: plain}}
`, s.vars)
	// bob from the trusted CA routes by subject; a "bob" from another CA
	// has the same subject but is not verified, so it is a guest.
	bob := s.goodCA.Issue([]string{"bob"}, testkit.LeafOptions{Client: true})
	fakeBob := testkit.NewCA(t, "rogue").Issue([]string{"bob"}, testkit.LeafOptions{Client: true})
	for name, tc := range map[string]struct {
		c    *http.Client
		url  string
		want string
	}{
		"verified":       {s.client(t, g, testkit.HTTP2, s.alice), "https://site.test/", "member"},
		"subject":        {s.client(t, g, testkit.HTTP1, bob), "https://site.test/", "bob"},
		"forged subject": {s.client(t, g, testkit.HTTP1, fakeBob), "https://site.test/", "guest"},
		"wrong CA":       {s.client(t, g, testkit.HTTP1, s.mallory), "https://site.test/", "guest"},
		"no certificate": {s.client(t, g, testkit.HTTP2, nil), "https://site.test/", "guest"},
		"plain http":     {testkit.NewClient(), "http://" + g.AddrOf("127.0.0.2:0") + "/", "plain"},
	} {
		if _, body := fetch(t, tc.c, tc.url); body != tc.want {
			t.Errorf("%s: got %q, want %q", name, body, tc.want)
		}
	}
}

// TestMTLSManyRequestsOneHTTP2Connection: 50 concurrent requests on one
// HTTP/2 connection are each checked against the route's CA and each
// carry the subject header, from one handshake.
func TestMTLSManyRequestsOneHTTP2Connection(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	s := newMTLSSetup(t, b.URL)
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", tls: {client_auth: {mode: request, ca: "${GOOD_CA}"}}}]
forwarding: {client_cert_header: X-Client-Subject}
`+tlsCerts+`
routes:
  - {match: {path: /secure}, upstream: "${B}", client_auth: {ca: "${GOOD_CA}"}}
  - {match: {path: /member, tls: {client_cert: verified}}, upstream: "${B}"}
`, s.vars)
	var handshakes atomic.Int32
	conf := withClientCert(s.ca.ClientTLS("site.test", nil), s.alice)
	conf.VerifyConnection = func(tls.ConnectionState) error { handshakes.Add(1); return nil }
	c := testkit.HTTPSClient(t, g.Addr, testkit.HTTP2, conf)
	fetch(t, c, "https://site.test/secure")
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := range 50 {
		wg.Go(func() {
			path := []string{"/secure", "/member"}[i%2]
			res, err := c.Get("https://site.test" + path)
			if err != nil || res.StatusCode != 200 || res.Proto != "HTTP/2.0" {
				failed.Add(1)
			}
			if err == nil {
				res.Body.Close()
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		t.Errorf("%d of 50 requests failed", n)
	}
	if n := handshakes.Load(); n != 1 {
		t.Errorf("%d handshakes, want 1 (one HTTP/2 connection)", n)
	}
	for _, r := range b.Requests() {
		if got := r.Header.Get("X-Client-Subject"); got != aliceSubject {
			t.Fatalf("backend got X-Client-Subject %q, want %q", got, aliceSubject)
		}
	}
}
