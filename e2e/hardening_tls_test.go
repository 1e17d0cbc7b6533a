package e2e

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestChallengePathCannotSkipRedirect: a plain request whose path only
// looks like an ACME challenge before dot segments are resolved
// ("/.well-known/acme-challenge/../../admin") is routed as "/admin", so
// it must be redirected like "/admin" rather than served over plain HTTP.
func TestChallengePathCannotSkipRedirect(t *testing.T) {
	t.Parallel()
	s := newTLSSetup(t, "http://127.0.0.1:9")
	g := testkit.Start(t, twoListeners+tlsCerts+`
routes:
  - {match: {path: /admin}, respond: {body: admin}}
  - {respond: {body: other}}
`, s.vars)
	for _, target := range []string{
		"/.well-known/acme-challenge/../../admin",
		"/.well-known/acme-challenge/%2e%2e/%2E%2E/admin",
		"/.well-known/acme-challenge/./../../admin/x",
	} {
		res, body := testkit.RoundTrip(t, g.Addr, "GET "+target+" HTTP/1.1\nHost: site.test\n\n")
		if res.StatusCode != http.StatusPermanentRedirect || body == "admin" {
			t.Errorf("GET %s: %d %q, want 308 to HTTPS", target, res.StatusCode, body)
		}
	}
	// A real challenge path (none is pending) is still not redirected.
	res, body := testkit.RoundTrip(t, g.Addr, "GET /.well-known/acme-challenge/token HTTP/1.1\nHost: site.test\n\n")
	if res.StatusCode != 200 || body != "other" {
		t.Errorf("challenge path: %d %q, want it routed (200 other)", res.StatusCode, body)
	}
}

// TestHTTP3ClientCAChangeEndsConnections: a reload that stops trusting a
// client CA ends the HTTP/3 connections verified under it once the drain
// time has passed, as it ends TCP ones; before, an open QUIC connection
// kept its old verification (and its forwarded identity) for as long as
// the client used it.
func TestHTTP3ClientCAChangeEndsConnections(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	s := newMTLSSetup(t, b.URL)
	cfg := func(ca string) string {
		return fmt.Sprintf(`
limits: {drain_timeout: 200ms}
listeners: [{address: "${LISTEN}", http3: true, tls: {client_auth: {mode: require, ca: "%s"}}}]
forwarding: {client_cert_header: X-Client-Subject}
`+tlsCerts+`
routes: [{upstream: "${B}"}]
`, ca)
	}
	g := testkit.Start(t, cfg("${GOOD_CA}"), s.vars)
	clients := map[string]*http.Client{
		"http2": s.client(t, g, testkit.HTTP2, s.alice),
		"http3": s.client(t, g, testkit.HTTP3, s.alice),
	}
	for name, c := range clients {
		if res, _ := fetch(t, c, "https://site.test/"); res.StatusCode != 200 {
			t.Fatalf("%s before the reload: status %d", name, res.StatusCode)
		}
	}
	if err := g.Apply(cfg("${OTHER_CA}")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // the drain time, and then some
	for name, c := range clients {
		hits := b.Hits()
		res, err := c.Get("https://site.test/")
		if err == nil {
			res.Body.Close()
		}
		if b.Hits() != hits {
			t.Errorf("%s: served after its client CA was removed (X-Client-Subject %q)", name, b.Last().Header.Get("X-Client-Subject"))
		}
	}
}

// TestDomainFrontingCannotSkipClientAuth: the certificate checks of a
// route are made per request on the connection's certificate, whatever
// name the client asked for in the handshake. Connecting with the SNI of
// an open name and sending the Host of a protected one, over HTTP/1.1,
// HTTP/2 and HTTP/3, or reusing a verified connection for a route with
// another CA, never gets through. (So Gatehouse does not answer 421 when
// SNI and Host differ, as nginx does not: nothing depends on the SNI.)
func TestDomainFrontingCannotSkipClientAuth(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	s := newMTLSSetup(t, b.URL)
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", http3: true, tls: {client_auth: {mode: request, ca: "${GOOD_CA}"}}}]
`+tlsCerts+`
routes:
  - {match: {host: [secure.site.test]}, upstream: "${B}", client_auth: {ca: "${GOOD_CA}"}}
  - {match: {host: [partner.site.test]}, upstream: "${B}", client_auth: {ca: "${OTHER_CA}"}}
  - {match: {host: [member.site.test], tls: {client_cert: verified}}, respond: {body: member}}
  - {respond: {body: open}}
`, s.vars)
	for _, p := range []testkit.Protocol{testkit.HTTP1, testkit.HTTP2, testkit.HTTP3} {
		anon := testkit.HTTPSClient(t, g.Addr, p, s.ca.ClientTLS("open.site.test", nil))
		alice := testkit.HTTPSClient(t, g.Addr, p, withClientCert(s.ca.ClientTLS("open.site.test", nil), s.alice))
		for _, tc := range []struct {
			name   string
			c      *http.Client
			host   string
			status int
			body   string
		}{
			{"no certificate, protected host", anon, "secure.site.test", 403, ""},
			{"no certificate, member host", anon, "member.site.test", 200, "open"},
			{"verified, protected host", alice, "secure.site.test", 200, ""},
			{"verified, another CA's host", alice, "partner.site.test", 403, ""},
		} {
			hits := b.Hits()
			res, body := fetch(t, tc.c, "https://"+tc.host+"/")
			if res.StatusCode != tc.status || (tc.body != "" && body != tc.body) {
				t.Errorf("%v %s: %d %q, want %d %q", p, tc.name, res.StatusCode, body, tc.status, tc.body)
			}
			if tc.status == 403 && b.Hits() != hits {
				t.Errorf("%v %s: reached the backend", p, tc.name)
			}
		}
	}
}
