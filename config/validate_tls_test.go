package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestValidateTLS checks that bad TLS settings are refused with the setting's
// position and, for files, the file's name and what is wrong with it.
func TestValidateTLS(t *testing.T) {
	ca := testkit.NewCA(t, "validate")
	good := ca.Issue([]string{"example.com", "*.example.com"}, testkit.LeafOptions{})
	other := ca.Issue([]string{"other.test"}, testkit.LeafOptions{})
	expired := ca.Issue([]string{"example.com"}, testkit.LeafOptions{NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	future := ca.Issue([]string{"example.com"}, testkit.LeafOptions{NotBefore: time.Now().Add(24 * time.Hour), NotAfter: time.Now().Add(72 * time.Hour)})
	notPEM := filepath.Join(t.TempDir(), "garbage.pem")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	missing := filepath.Join(t.TempDir(), "missing.pem")
	vars := map[string]string{
		"GOOD": good.CertFile, "GOODKEY": good.KeyFile, "OTHERKEY": other.KeyFile,
		"EXPIRED": expired.CertFile, "EXPIREDKEY": expired.KeyFile,
		"FUTURE": future.CertFile, "FUTUREKEY": future.KeyFile,
		"GARBAGE": notPEM, "MISSING": missing, "CA": ca.CertFile,
	}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	listener := "listeners: [{address: ':8443', tls: {}}]\n"
	cert := func(c, k string) string {
		return listener + "tls:\n  certificates:\n    - {cert: \"${" + c + "}\", key: \"${" + k + "}\"}\n"
	}

	tests := []struct {
		name, src string
		want      []string // substrings, each in a separate problem
	}{
		{"valid", cert("GOOD", "GOODKEY"), nil},
		{"expired", cert("EXPIRED", "EXPIREDKEY"), []string{"4:7: tls.certificates[0]: certificate " + expired.CertFile + " expired on"}},
		{"not yet valid", cert("FUTURE", "FUTUREKEY"), []string{"certificate " + future.CertFile + " is not valid before"}},
		{"unreadable", cert("MISSING", "GOODKEY"), []string{"cannot read certificate: open " + missing}},
		{"not PEM", cert("GARBAGE", "GOODKEY"), []string{"certificate " + notPEM + " and key " + good.KeyFile}},
		{"key mismatch", cert("GOOD", "OTHERKEY"), []string{"key file " + other.KeyFile + " does not match certificate file " + good.CertFile}},
		{"wrong name", listener + "tls:\n  certificates:\n    - {cert: \"${GOOD}\", key: \"${GOODKEY}\", names: [example.com, api.example.com, example.org]}\n",
			[]string{`certificate ` + good.CertFile + ` does not cover "example.org" (it is for example.com, *.example.com)`}},
		{"tls without certificates", listener, []string{"tls: a listener has tls but there are no certificates"}},
		{"certificates without tls", "listeners: [{address: ':80'}]\ntls:\n  certificates: [{cert: \"${GOOD}\", key: \"${GOODKEY}\"}]\n",
			[]string{"tls: certificates are configured but no listener has tls"}},
		{"listener settings", "listeners:\n  - address: ':8443'\n    h2c: true\n    tls: {min_version: '1.3', max_version: '1.2', ciphers: [TLS_RSA_WITH_AES_128_CBC_SHA, TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256], curves: [X448]}\n  - {address: ':80', http3: true}\n" +
			"tls:\n  certificates: [{cert: \"${GOOD}\", key: \"${GOODKEY}\"}]\n", []string{
			"listeners[0].h2c: h2c is cleartext HTTP/2 for plain listeners",
			"listeners[0].tls.max_version: 1.2 is below min_version 1.3",
			`listeners[0].tls.ciphers[0]: "TLS_RSA_WITH_AES_128_CBC_SHA" is not a secure TLS 1.2 cipher suite`,
			`listeners[0].tls.ciphers[1]: "TLS_AES_128_GCM_SHA256" is a TLS 1.3 suite`,
			`listeners[0].tls.curves[0]: unknown curve "X448"`,
			"listeners[1].http3: HTTP/3 needs TLS",
		}},
		{"client auth", "listeners:\n  - {address: ':8443', tls: {client_auth: {}}}\n  - {address: ':8444', tls: {client_auth: {mode: maybe, ca: \"${GARBAGE}\"}}}\n" +
			"tls:\n  certificates: [{cert: \"${GOOD}\", key: \"${GOODKEY}\"}]\n", []string{
			"listeners[0].tls.client_auth.ca: is required with mode require",
			`listeners[1].tls.client_auth.mode: unknown mode "maybe"`,
			"listeners[1].tls.client_auth.ca: CA bundle " + notPEM + " holds no PEM certificate",
		}},
		{"acme", listener + "tls:\n  acme: {domains: ['*.example.com', localhost, ok.example.com], email: nobody, directory: 'http://acme.test/dir', ca_root: \"${MISSING}\", challenges: [dns-01], renew_check_interval: 0s}\n", []string{
			`tls.acme.domains[0]: "*.example.com": wildcard names need the DNS-01 challenge`,
			`tls.acme.domains[1]: "localhost" is not a fully qualified domain name`,
			`tls.acme.email: "nobody" is not an email address`,
			`tls.acme.directory: "http://acme.test/dir" is not an https URL`,
			"tls.acme.ca_root: cannot read CA bundle: open " + missing,
			`tls.acme.challenges[0]: unknown challenge "dns-01"`,
			"tls.acme.renew_check_interval: must be greater than 0",
		}},
		{"acme http-01 needs a plain listener", listener + "tls:\n  acme: {domains: [example.com], challenges: [http-01]}\n", []string{
			"tls.acme.challenges: http-01 is answered on a plain HTTP listener",
		}},
		{"hsts", cert("GOOD", "GOODKEY") + "  hsts:\n    - {hosts: [], max_age: 1500ms}\n    - {hosts: ['bad host']}\n", []string{
			"tls.hsts[0].hosts: lists no host",
			"tls.hsts[0].max_age: must be a whole number of seconds",
			`tls.hsts[1].hosts[0]: "bad host" is not a valid host name`,
		}},
		{"routes", cert("GOOD", "GOODKEY") + "forwarding: {client_cert_header: 'X Subject'}\nroutes:\n" +
			"  - {match: {tls: {sni: ['*'], versions: ['1.1'], client_cert: maybe, client_subject: [nobody], ciphers: [TLS_NOPE]}}, respond: {}}\n" +
			"  - {match: {path: /a}, respond: {}, client_auth: {}}\n" +
			"  - {match: {path: /b}, respond: {}, request_headers: {set: {X-A: '{tls_nope}', X-B: '{\"json\": 1}'}}}\n", []string{
			`forwarding.client_cert_header: "X Subject" is not a valid header name`,
			`routes[0].match.tls.sni[0]: host "*"`,
			`routes[0].match.tls.versions[0]: unknown TLS version "1.1"`,
			`routes[0].match.tls.client_cert: unknown client_cert "maybe"`,
			`routes[0].match.tls.ciphers[0]: unknown cipher suite "TLS_NOPE"`,
			`routes[0].match.tls.client_subject[0]: "nobody" is not a subject such as CN=alice,O=Example`,
			"routes[1].client_auth.ca: is required",
			"routes[1].client_auth: no listener asks for client certificates",
			"routes[2].request_headers.set.X-A: unknown placeholder {tls_nope}",
		}},
		{"same match but tls differs", cert("GOOD", "GOODKEY") + "routes:\n  - {match: {path: /a}, respond: {}}\n  - {match: {path: /a, tls: {versions: ['1.3']}}, respond: {}}\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Load([]byte(tt.src), "gh.yaml", lookup)
			var lines []string
			if err != nil {
				lines = strings.Split(strings.TrimSpace(err.Error()), "\n")
			}
			if len(tt.want) == 0 && err != nil {
				t.Fatalf("unexpected problems:\n%v", err)
			}
			for _, w := range tt.want {
				found := false
				for _, l := range lines {
					found = found || strings.Contains(l, w)
				}
				if !found {
					t.Errorf("no problem contains %q; got:\n%v", w, err)
				}
			}
			// The header line ("gh.yaml is not valid:") may precede the problems.
			if n := len(lines); len(tt.want) > 0 && n != len(tt.want) && n != len(tt.want)+1 {
				t.Errorf("got %d lines, want %d problems:\n%v", n, len(tt.want), err)
			}
		})
	}
}
