package headers

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// withFacts gives r the facts dispatch would have resolved.
func withFacts(r *http.Request) *http.Request {
	return r.WithContext(reqinfo.With(r.Context(), &reqinfo.Info{ClientIP: netip.MustParseAddr("203.0.113.7"), RequestID: "req-1"}))
}

// clientCert returns a self-signed client certificate named cn.
func clientCert(t testing.TB, cn string) *x509.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0x1f2e), Subject: pkix.Name{CommonName: cn, Organization: []string{"Example"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

func mustCompile(t testing.TB, c Spec) *Ops {
	t.Helper()
	o, err := Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestEdit(t *testing.T) {
	plain := withFacts(httptest.NewRequest("GET", "http://shop.example:8080/", nil))
	secure := withFacts(httptest.NewRequest("GET", "https://shop.example/", nil))
	cert := clientCert(t, "alice")
	secure.TLS = &tls.ConnectionState{
		Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_256_GCM_SHA384, ServerName: "shop.example",
		NegotiatedProtocol: "h2", PeerCertificates: []*x509.Certificate{cert},
		VerifiedChains: [][]*x509.Certificate{{cert}},
	}
	o := mustCompile(t, Spec{
		Remove: []string{"x-drop"},
		Set: map[string]string{
			"x-literal": "{not a placeholder} {Client_IP} {}", "x-client": "{client_ip} via {scheme}://{host}",
			"x-id": "{request_id}", "x-tls": "{tls_version}/{tls_cipher}/{tls_sni}/{tls_alpn}",
			"x-subject": "{tls_client_subject}", "x-cert": "{tls_client_issuer};{tls_client_serial};{tls_client_verified}",
			"x-spoofed": "{tls_client_subject}", "x-empty": "",
		},
		Add: map[string]string{"x-list": "{tls_sni}", "x-braces": "{{host}}"},
	})
	tests := []struct {
		name string
		r    *http.Request
		want http.Header
	}{
		{"plain", plain, http.Header{
			"X-Literal": {"{not a placeholder} {Client_IP} {}"}, "X-Client": {"203.0.113.7 via http://shop.example:8080"},
			"X-Id": {"req-1"}, "X-Tls": {"///"}, "X-Cert": {";;"}, "X-List": {"old"}, "X-Braces": {"{shop.example:8080}"},
		}},
		{"tls", secure, http.Header{
			"X-Literal": {"{not a placeholder} {Client_IP} {}"}, "X-Client": {"203.0.113.7 via https://shop.example"},
			"X-Id": {"req-1"}, "X-Tls": {"1.3/TLS_AES_256_GCM_SHA384/shop.example/h2"},
			"X-Subject": {"CN=alice,O=Example"}, "X-Spoofed": {"CN=alice,O=Example"},
			"X-Cert": {"CN=alice,O=Example;1f2e;SUCCESS"}, "X-List": {"old", "shop.example"}, "X-Braces": {"{shop.example}"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := []string{"old"}
			h := http.Header{"X-Drop": {"1"}, "X-Spoofed": {"CN=mallory"}, "X-Empty": {"client's"}, "X-List": old}
			o.Edit(h, tt.r)
			for k := range h {
				if !slices.Equal(h[k], tt.want[k]) {
					t.Errorf("%s: %q, want %q", k, h[k], tt.want[k])
				}
			}
			for k := range tt.want {
				if _, ok := h[k]; !ok {
					t.Errorf("%s missing, want %q", k, tt.want[k])
				}
			}
			if len(old) != 1 || old[0] != "old" {
				t.Errorf("a shared value slice was written to: %q", old)
			}
		})
	}
}

func TestCompile(t *testing.T) {
	if o, err := Compile(Spec{}); o != nil || err != nil {
		t.Errorf("empty ops: %v, %v; want nil, nil", o, err)
	}
	for _, c := range []Spec{
		{Set: map[string]string{"X-A": "{tls_verison}"}},
		{Add: map[string]string{"X-A": "ok {client_ip} {nosuch}"}},
	} {
		if _, err := Compile(c); err == nil || !strings.Contains(err.Error(), "unknown placeholder") ||
			!strings.Contains(err.Error(), "X-A") || !strings.Contains(err.Error(), "{tls_version}") {
			t.Errorf("%v: error %v, want one naming the header, the placeholder and the known ones", c, err)
		}
	}
	// Without request facts, the two placeholders that need them are empty.
	o, err := Compile(Spec{Set: map[string]string{"X-Ip": "{client_ip}", "X-Id": "{request_id}"}})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	o.Edit(h, httptest.NewRequest("GET", "/", nil))
	if len(h) != 0 {
		t.Errorf("without facts: %v, want no header", h)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want []string // literal text as is, placeholders as <name>; nil: a literal value
	}{
		{"plain", nil},
		{"", nil},
		{"{}", nil},
		{"{ host }", nil},
		{"{Host}", nil},
		{"{Host9}", nil},
		{"{host", nil},
		{"host}", nil},
		{`{"json":1}`, nil},
		{"{host}", []string{"<host>"}},
		{"a{host}b", []string{"a", "<host>", "b"}},
		{"{{host}}", []string{"{", "<host>", "}"}},
		{"{host}{scheme}", []string{"<host>", "<scheme>"}},
		{"{x{host}", []string{"{x", "<host>"}},
		{"{tls_client_fingerprint}!", []string{"<tls_client_fingerprint>", "!"}},
	}
	for _, tt := range tests {
		segs, err := parse(tt.in)
		if err != nil {
			t.Errorf("parse(%q): %v", tt.in, err)
			continue
		}
		var got []string
		for _, s := range segs {
			if s.get != nil {
				got = append(got, "<"+s.name+">")
			} else {
				got = append(got, s.lit)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("parse(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"{x}", "{tls_verified}", "a {host} {hots}", "{client_ip_}", "{9}", "{_host}"} {
		if _, err := parse(bad); err == nil {
			t.Errorf("parse(%q) succeeded, want an unknown placeholder error", bad)
		}
	}
}

// TestAgreesWithConfig: every placeholder config accepts has a value
// here, and a value loads as config exactly when it compiles here.
func TestAgreesWithConfig(t *testing.T) {
	for _, n := range config.Placeholders() {
		if lookup(n) == nil {
			t.Errorf("config accepts {%s}, which headers does not know", n)
		}
	}
	for _, v := range []string{
		"{host}", "x{scheme}y", "{x}", "{Host}", "{9}", "{}", "{ host }", "{{host}}", "{x{host}", "{x{nosuch}",
		"{tls_client_fingerprint}", `{"a":"{b}"}`, "{_}", "{host", "{a-b}",
	} {
		_, err := parse(v)
		yaml := "listeners: [{address: \":0\"}]\nroutes: [{respond: {body: x}, response_headers: {set: {X-A: '" + v + "'}}}]\n"
		_, cerr := config.Load([]byte(yaml), "t.yaml", func(string) (string, bool) { return "", false })
		if (err == nil) != (cerr == nil) {
			t.Errorf("%q: headers says %v, config says %v", v, err, cerr)
		}
	}
}

// TestResponse checks response edits see the request, on the first write.
func TestResponse(t *testing.T) {
	o := mustCompile(t, Spec{Set: map[string]string{"X-Served-Host": "{host}", "Server": ""}})
	h := Response(o)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "backend/1.0")
		_, _ = w.Write([]byte("ok"))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "http://a.example/", nil))
	if got := rec.Header().Get("X-Served-Host"); got != "a.example" {
		t.Errorf("X-Served-Host %q, want a.example", got)
	}
	if _, ok := rec.Header()["Server"]; ok {
		t.Errorf("Server %q, want removed by an empty set", rec.Header()["Server"])
	}
	if next := http.NewServeMux(); Response(nil)(next) != next {
		t.Error("Response(nil) wrapped the handler")
	}
}

// TestEditAllocations: literal values cost only their value slices, as
// before placeholders existed; removals cost nothing.
func TestEditAllocations(t *testing.T) {
	r := httptest.NewRequest("GET", "http://a.example/", nil)
	for _, tt := range []struct {
		name string
		ops  Spec
		max  float64
	}{
		{"remove", Spec{Remove: []string{"X-A", "X-B"}}, 0},
		{"literal set and add", Spec{Set: map[string]string{"X-A": "1"}, Add: map[string]string{"X-B": "2"}}, 2},
		{"single placeholder", Spec{Set: map[string]string{"X-Host": "{host}"}}, 1},
	} {
		o := mustCompile(t, tt.ops)
		h := http.Header{"X-A": {"0"}, "X-B": {"0"}}
		if n := testing.AllocsPerRun(100, func() { o.Edit(h, r) }); n > tt.max {
			t.Errorf("%s: %v allocations per Edit, want at most %v", tt.name, n, tt.max)
		}
	}
}

func BenchmarkEdit(b *testing.B) {
	r := httptest.NewRequest("GET", "http://a.example/", nil)
	for _, bc := range []struct {
		name string
		ops  Spec
	}{
		{"literal", Spec{Set: map[string]string{"X-Frame-Options": "DENY"}}},
		{"placeholder", Spec{Set: map[string]string{"X-Client": "{client_ip}"}}},
		{"mixed", Spec{Set: map[string]string{"X-Origin": "{scheme}://{host} ({client_ip})"}}},
	} {
		o := mustCompile(b, bc.ops)
		h := http.Header{}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				o.Edit(h, r)
			}
		})
	}
}
