package gateway_test

import (
	"context"
	"net"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/gateway"
)

// FuzzHTTPSRedirect: whatever Host and target a plain HTTP request has, a
// redirect to HTTPS goes to that same host (under the certificate) on the
// TLS port, with the request's path and query, and nowhere else.
func FuzzHTTPSRedirect(f *testing.F) {
	for _, seed := range [][2]string{
		{"site.test", "/x?q=1"}, {"A.Site.Test.:80", "/"}, {"[::1]", "/a%2Fb"},
		{"1869573999/.site.test", "/"}, {"a@b.site.test", "/"}, {"x.site.test", "//evil.test/x"},
		{"x.site.test", "/../../admin"}, {"x.site.test", "/.well-known/acme-challenge/../x"},
		{"%.Site.Test.", "/"}, {"::1:", "/"}, {"site.test", "/?#"}, {"Site.Test..", "/"},
	} {
		f.Add(seed[0], seed[1])
	}
	rt := redirectRuntime(f)
	l := &gateway.Listener{Name: "plain", RedirectHTTPS: true, HTTPSPort: func() string { return "8443" }}

	f.Fuzz(func(t *testing.T, host, target string) {
		if !strings.HasPrefix(target, "/") {
			return
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.URL, r.RequestURI, r.Host = u, target, host
		r = r.WithContext(gateway.WithListener(context.Background(), l))
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, r)
		if w.Code != 308 {
			return
		}
		loc, err := url.Parse(w.Header().Get("Location"))
		if err != nil {
			t.Fatalf("Host %q target %q: Location %q does not parse: %v", host, target, w.Header().Get("Location"), err)
		}
		want := strings.TrimSuffix(strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(hostPart(host), "["), "]")), ".")
		if loc.Scheme != "https" || loc.Hostname() != want || loc.Port() != "8443" || loc.User != nil {
			t.Fatalf("Host %q: redirected to %q (host %q port %q), want https://%s:8443", host, loc, loc.Hostname(), loc.Port(), want)
		}
		if want != "site.test" && !strings.HasSuffix(want, ".site.test") && want != "::1" {
			t.Fatalf("Host %q: redirected although %q has no certificate", host, want)
		}
		if want := strings.ReplaceAll(u.RequestURI(), "#", "%23"); loc.RequestURI() != want {
			t.Fatalf("target %q: redirect keeps %q, want %q", target, loc.RequestURI(), want)
		}
	})
}

// hostPart drops a trailing :port.
func hostPart(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return h
}
