package gateway_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/gateway"
	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestRedirectLocationHost: the HTTPS redirect names the host the client
// asked for and nothing else. HTTP/2 (h2c) lets ":authority" carry bytes
// HTTP/1.1 refuses in Host, with which a name under a wildcard
// certificate used to redirect to another host ("https://1869573999/..."
// is 111.111.111.111 to a browser); those requests are now refused, as
// HTTP/1.1 refuses them. An IPv6 literal keeps its brackets when the TLS
// listener is on 443, where the port is left out.
func TestRedirectLocationHost(t *testing.T) {
	rt := redirectRuntime(t)
	tests := []struct {
		host     string
		status   int
		location string
	}{
		{"a.site.test", 308, "https://a.site.test/x?q=1"},
		{"[::1]", 308, "https://[::1]/x?q=1"},
		{"[::1]:80", 308, "https://[::1]/x?q=1"},
		{"1869573999/.site.test", 400, ""},
		{"1869573999\\.site.test", 400, ""},
		{"a?.site.test", 400, ""},
		{"a#.site.test", 400, ""},
		{"evil\u3002com/.site.test", 400, ""},
	}
	l := &gateway.Listener{Name: "plain", RedirectHTTPS: true, HTTPSPort: func() string { return "443" }}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/x?q=1", nil)
		r.Host = tt.host
		r = r.WithContext(gateway.WithListener(context.Background(), l))
		w := httptest.NewRecorder()
		rt.ServeHTTP(w, r)
		if w.Code != tt.status || w.Header().Get("Location") != tt.location {
			t.Errorf("Host %q: %d Location %q, want %d %q", tt.host, w.Code, w.Header().Get("Location"), tt.status, tt.location)
		}
	}
}

// redirectRuntime compiles a runtime with a plain and a TLS listener and a
// certificate for site.test, *.site.test and ::1, answering "served".
func redirectRuntime(tb testing.TB) *gateway.Runtime {
	ca := testkit.NewCA(tb, "redirect CA")
	leaf := ca.Issue([]string{"site.test", "*.site.test", "::1"}, testkit.LeafOptions{})
	cfg, err := testkit.LoadConfig(`
listeners:
  - {address: "127.0.0.1:0"}
  - {address: "127.0.0.2:0", tls: {}}
tls:
  certificates: [{cert: "${CERT}", key: "${KEY}"}]
routes: [{respond: {body: served}}]
`, testkit.Vars{"CERT": leaf.CertFile, "KEY": leaf.KeyFile})
	if err != nil {
		tb.Fatal(err)
	}
	env := gateway.NewEnv(nil, nil)
	rt, err := gateway.Compile(cfg, env)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { rt.Retire(context.Background()); env.TLS.Close() })
	return rt
}
