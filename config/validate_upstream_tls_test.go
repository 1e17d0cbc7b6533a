package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pemFiles writes a self-signed certificate for cn with the given
// extended key usage and validity, and its key, into dir as <name>.pem and
// <name>.key, and returns both paths.
func pemFiles(t *testing.T, dir, name string, usage x509.ExtKeyUsage, notAfter time.Time) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             notAfter.Add(-48 * time.Hour),
		NotAfter:              notAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	write := func(p, typ string, b []byte) {
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(cert, "CERTIFICATE", der)
	write(key, "EC PRIVATE KEY", kder)
	return cert, key
}

// tlsFiles are the PEM files the upstream tls cases refer to, by name.
func tlsFiles(t *testing.T) map[string]string {
	dir := t.TempDir()
	day := time.Now().Add(24 * time.Hour)
	f := map[string]string{}
	f["CA"], _ = pemFiles(t, dir, "ca", x509.ExtKeyUsageServerAuth, day)
	f["CERT"], f["KEY"] = pemFiles(t, dir, "client", x509.ExtKeyUsageClientAuth, day)
	f["SRVCERT"], f["SRVKEY"] = pemFiles(t, dir, "server", x509.ExtKeyUsageServerAuth, day)
	f["OLDCERT"], f["OLDKEY"] = pemFiles(t, dir, "old", x509.ExtKeyUsageClientAuth, time.Now().Add(-time.Hour))
	f["MISSING"] = filepath.Join(dir, "missing.pem")
	f["NOTPEM"] = filepath.Join(dir, "notpem.pem")
	if err := os.WriteFile(f["NOTPEM"], []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// tlsUpstream is U with https targets and the given tls block lines
// (indented by 6) from line 5 on.
func tlsUpstream(targets string, tls ...string) string {
	src := L + "upstreams:\n  api:\n    targets: [" + targets + "]\n"
	if len(tls) > 0 {
		src += "    tls:\n      " + strings.Join(tls, "\n      ") + "\n"
	}
	return src
}

func TestValidateUpstreamTLS(t *testing.T) {
	f := tlsFiles(t)
	lookup := env("CA", f["CA"], "CERT", f["CERT"], "KEY", f["KEY"], "SRVCERT", f["SRVCERT"],
		"SRVKEY", f["SRVKEY"], "OLDCERT", f["OLDCERT"], "OLDKEY", f["OLDKEY"],
		"MISSING", f["MISSING"], "NOTPEM", f["NOTPEM"])

	t.Run("valid", func(t *testing.T) {
		for _, src := range []string{
			tlsUpstream("https://a, https://b:8443"),
			tlsUpstream("https://10.0.0.1", "ca: ${CA}", "server_name: api.internal", "cert: ${CERT}", "key: ${KEY}"),
			tlsUpstream("https://a", "insecure_skip_verify: true"),
			tlsUpstream("h2c://a:50051, h2c://b:50051"),
			tlsUpstream("http://a") + "    tls: {}\n", // an empty tls block is no tls block
		} {
			mustLoad(t, src, lookup)
		}
	})

	runValidateCases(t, []validateCase{
		{"tls without https", tlsUpstream("http://a", "ca: ${CA}"), []string{
			`gh.yaml:5:5: upstreams.api.tls: applies to https:// targets only, and these are http://; remove it or use https:// targets`,
		}},
		{"tls with h2c", tlsUpstream("h2c://a:1", "server_name: a"), []string{
			`gh.yaml:5:5: upstreams.api.tls: applies to https:// targets only, and these are h2c://; remove it or use https:// targets`,
		}},
		{"mixed schemes", tlsUpstream("https://a, http://b, h2c://c:1"), []string{
			`gh.yaml:4:26: upstreams.api.targets[1].url: scheme http differs from https in upstreams.api.targets[0]; all targets of an upstream use one scheme (make a second upstream)`,
			`gh.yaml:4:36: upstreams.api.targets[2].url: scheme h2c differs from https in upstreams.api.targets[0]; all targets of an upstream use one scheme (make a second upstream)`,
		}},
		{"h2c needs a port", tlsUpstream("h2c://a"), []string{
			`gh.yaml:4:15: upstreams.api.targets[0].url: "h2c://a": h2c has no default port; add it, e.g. h2c://10.0.0.5:50051`,
		}},
		{"cert without key", tlsUpstream("https://a", "cert: ${CERT}"), []string{
			`gh.yaml:5:5: upstreams.api.tls: a client certificate needs both cert and key (PEM files), or neither`,
		}},
		{"unreadable ca", tlsUpstream("https://a", "ca: ${MISSING}"), []string{
			`gh.yaml:6:11: upstreams.api.tls.ca: cannot read CA bundle: open ` + f["MISSING"] + `: no such file or directory`,
		}},
		{"ca not pem", tlsUpstream("https://a", "ca: ${NOTPEM}"), []string{
			`gh.yaml:6:11: upstreams.api.tls.ca: CA bundle ` + f["NOTPEM"] + ` holds no PEM certificate`,
		}},
		{"server certificate as client certificate", tlsUpstream("https://a", "cert: ${SRVCERT}", "key: ${SRVKEY}"), []string{
			`gh.yaml:6:13: upstreams.api.tls.cert: certificate ` + f["SRVCERT"] + ` is not for client authentication (its extended key usage lacks clientAuth); targets will refuse it`,
		}},
		// The same checks and messages as listener certificates.
		{"expired client certificate", tlsUpstream("https://a", "cert: ${OLDCERT}", "key: ${OLDKEY}"), []string{
			`gh.yaml:6:13: upstreams.api.tls.cert: ` + checkCertificate(Certificate{Cert: f["OLDCERT"], Key: f["OLDKEY"]}, time.Now()),
		}},
		{"key of another certificate", tlsUpstream("https://a", "cert: ${CERT}", "key: ${SRVKEY}"), []string{
			`gh.yaml:6:13: upstreams.api.tls.cert: ` + checkCertificate(Certificate{Cert: f["CERT"], Key: f["SRVKEY"]}, time.Now()),
		}},
		{"bad server name", tlsUpstream("https://a", "server_name: 'not a host'"), []string{
			`gh.yaml:6:20: upstreams.api.tls.server_name: "not a host" is not a host name such as api.internal.example`,
		}},
		{"insecure with ca", tlsUpstream("https://a", "ca: ${CA}", "insecure_skip_verify: true"), []string{
			`gh.yaml:7:29: upstreams.api.tls.insecure_skip_verify: turns verification off, so ca and server_name would be ignored; drop one or the other`,
		}},
		{"route upstream url", L + "routes:\n  - {upstream: 'ftp://x:1'}\n  - {match: {path: /b}, upstream: 'h2c://x'}\n", []string{
			`gh.yaml:3:16: routes[0].upstream: "ftp://x:1": scheme "ftp" is not supported; use http://, https:// or h2c:// (cleartext HTTP/2, e.g. for gRPC)`,
			`gh.yaml:4:35: routes[1].upstream: "h2c://x": h2c has no default port; add it, e.g. h2c://10.0.0.5:50051`,
		}},
	}, lookup)
}

func TestUpstreamDefaultPorts(t *testing.T) {
	for in, want := range map[string]string{
		"http://a":       "http://a:80",
		"https://a":      "https://a:443",
		"https://[::1]":  "https://[::1]:443",
		"https://a:8443": "https://a:8443",
		"h2c://a:50051":  "h2c://a:50051",
		"h2c://a":        "h2c://a", // no default: Validate asks for the port
	} {
		if got := NewUpstream(in).Targets[0].URL; got != want {
			t.Errorf("NewUpstream(%q) target %q, want %q", in, got, want)
		}
	}
	c := mustLoad(t, L+"upstreams:\n  api:\n    targets: [https://a]\nroutes:\n  - {upstream: 'https://b'}\n", nil)
	if got := c.Upstreams["api"].Targets[0].URL; got != "https://a:443" {
		t.Errorf("upstream target %q, want https://a:443", got)
	}
	if got := c.Routes[0].Upstream; got != "https://b:443" {
		t.Errorf("route upstream %q, want https://b:443", got)
	}
}
