package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

// Placeholders returns the names a header value may use as {name}; see
// HeaderOps.
func Placeholders() []string {
	return []string{
		"client_ip", "scheme", "host", "request_id",
		"tls_version", "tls_cipher", "tls_sni", "tls_alpn",
		"tls_client_subject", "tls_client_issuer", "tls_client_serial",
		"tls_client_fingerprint", "tls_client_verified",
	}
}

// TLSVersions returns the protocol version names settings accept.
func TLSVersions() []string { return []string{"1.2", "1.3"} }

// TLSVersionID returns the crypto/tls constant of a version name.
func TLSVersionID(name string) (uint16, bool) {
	switch name {
	case "1.2":
		return tls.VersionTLS12, true
	case "1.3":
		return tls.VersionTLS13, true
	}
	return 0, false
}

// ClientCertMatches returns the values match.tls.client_cert accepts.
func ClientCertMatches() []string { return []string{"verified", "none"} }

// Curves returns the key exchange group names ListenerTLS.Curves accepts.
func Curves() []string { return []string{"X25519MLKEM768", "X25519", "P256", "P384", "P521"} }

// tlsListeners checks each listener's TLS and protocol settings and that
// certificates exist for TLS listeners (and listeners for certificates).
func (v *checker) tlsListeners() {
	c := v.c
	anyTLS := false
	for i, l := range c.Listeners {
		p := fmt.Sprintf("listeners[%d]", i)
		if l.TLS == nil {
			if l.HTTP3 {
				v.add(p+".http3", "HTTP/3 needs TLS; add tls: {} to this listener")
			}
			continue
		}
		anyTLS = true
		if l.H2C {
			v.add(p+".h2c", "h2c is cleartext HTTP/2 for plain listeners; a TLS listener offers HTTP/2 by ALPN (tls.http2)")
		}
		v.listenerTLS(p+".tls", l.TLS)
	}
	hasCerts := len(c.TLS.Certificates) > 0 || c.TLS.ACME != nil
	switch {
	case anyTLS && !hasCerts:
		v.add("tls", "a listener has tls but there are no certificates; add tls.certificates (PEM files) or tls.acme")
	case !anyTLS && hasCerts:
		v.add("tls", "certificates are configured but no listener has tls; add tls: {} to a listener, e.g. {address: \":443\", tls: {}}")
	}
}

func (v *checker) listenerTLS(p string, t *ListenerTLS) {
	v.oneOf(p+".min_version", "TLS version", t.MinVersion, TLSVersions()...)
	v.oneOf(p+".max_version", "TLS version", t.MaxVersion, TLSVersions()...)
	if t.MinVersion == "1.3" && t.MaxVersion == "1.2" {
		v.add(p+".max_version", "1.2 is below min_version 1.3")
	}
	secure := map[string]*tls.CipherSuite{}
	for _, cs := range tls.CipherSuites() {
		secure[cs.Name] = cs
	}
	for i, name := range t.Ciphers {
		cp := fmt.Sprintf("%s.ciphers[%d]", p, i)
		cs, ok := secure[name]
		switch {
		case !ok:
			v.add(cp, "%q is not a secure TLS 1.2 cipher suite; use names such as TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", name)
		case slices.Contains(cs.SupportedVersions, tls.VersionTLS13):
			v.add(cp, "%q is a TLS 1.3 suite, which is not configurable; list TLS 1.2 suites only", name)
		case !strings.HasPrefix(name, "TLS_ECDHE_") || !(strings.Contains(name, "_GCM_") || strings.Contains(name, "CHACHA20")):
			v.add(cp, "%q lacks forward secrecy or an AEAD cipher; use an ECDHE suite with AES-GCM or ChaCha20-Poly1305", name)
		}
	}
	for i, name := range t.Curves {
		if !slices.Contains(Curves(), name) {
			v.add(fmt.Sprintf("%s.curves[%d]", p, i), "unknown curve %q; use %s", name, orList(Curves()))
		}
	}
	if a := t.ClientAuth; a != nil {
		v.oneOf(p+".client_auth.mode", "mode", a.Mode, "require", "request")
		if a.CA == "" && a.Mode == "require" {
			v.add(p+".client_auth.ca", "is required with mode require: the PEM bundle client certificates must chain to")
		} else if a.CA != "" {
			v.check(p+".client_auth.ca", checkCAFile(a.CA))
		}
	}
}

// certificates checks the top-level tls section.
func (v *checker) certificates() {
	t := &v.c.TLS
	for i, cert := range t.Certificates {
		p := fmt.Sprintf("tls.certificates[%d]", i)
		if cert.Cert == "" || cert.Key == "" {
			v.add(p, "needs both cert and key (PEM files)")
			continue
		}
		for j, n := range cert.Names {
			v.check(fmt.Sprintf("%s.names[%d]", p, j), checkMatchHost(n))
		}
		v.check(p, checkCertificate(cert, time.Now()))
	}
	if t.ACME != nil {
		v.acme("tls.acme", t.ACME)
	}
	for i, h := range t.HSTS {
		p := fmt.Sprintf("tls.hsts[%d]", i)
		if len(h.Hosts) == 0 {
			v.add(p+".hosts", `lists no host; e.g. hosts: [example.com, "*.example.com"]`)
		}
		for j, host := range h.Hosts {
			v.check(fmt.Sprintf("%s.hosts[%d]", p, j), checkMatchHost(host))
		}
		if h.MaxAge < 0 || h.MaxAge.D()%time.Second != 0 {
			v.add(p+".max_age", "must be a whole number of seconds, e.g. 8760h")
		}
	}
	if h := v.c.Forwarding.ClientCertHeader; h != "" && !isToken(h) {
		v.add("forwarding.client_cert_header", "%q is not a valid header name, e.g. X-Client-Cert-Subject", h)
	}
}

func (v *checker) acme(p string, a *ACME) {
	if len(a.Domains) == 0 {
		v.add(p+".domains", "lists no domain; e.g. domains: [example.com, www.example.com]")
	}
	for i, d := range a.Domains {
		dp := fmt.Sprintf("%s.domains[%d]", p, i)
		switch {
		case strings.Contains(d, "*"):
			v.add(dp, "%q: wildcard names need the DNS-01 challenge, which is not supported; list the names", d)
		case !isDNSName(d) || !strings.Contains(d, "."):
			v.add(dp, "%q is not a fully qualified domain name such as example.com", d)
		}
	}
	if a.Email != "" && (!strings.Contains(a.Email, "@") || strings.ContainsAny(a.Email, " \t<>")) {
		v.add(p+".email", "%q is not an email address", a.Email)
	}
	if u, err := url.Parse(a.Directory); err != nil || u.Scheme != "https" || u.Host == "" {
		v.add(p+".directory", "%q is not an https URL of an ACME directory, e.g. %s", a.Directory, defaultACMEDirectory)
	}
	if a.CARoot != "" {
		v.check(p+".ca_root", checkCAFile(a.CARoot))
	}
	if len(a.Challenges) == 0 {
		v.add(p+".challenges", "lists no challenge; use http-01, tls-alpn-01 or both")
	}
	for i, ch := range a.Challenges {
		v.oneOf(fmt.Sprintf("%s.challenges[%d]", p, i), "challenge", ch, "http-01", "tls-alpn-01")
	}
	if slices.Equal(a.Challenges, Strings{"http-01"}) && !slices.ContainsFunc(v.c.Listeners, func(l Listener) bool { return l.TLS == nil }) {
		v.add(p+".challenges", "http-01 is answered on a plain HTTP listener (port 80), and there is none; add one or use tls-alpn-01")
	}
	v.positive(p+".renew_check_interval", a.RenewCheckInterval)
	if a.Storage == "" {
		v.add(p+".storage", "must name a directory")
	}
}

// checkCertificate loads a certificate and key and checks that they match,
// are valid now and cover the names given.
func checkCertificate(c Certificate, now time.Time) string {
	certPEM, err := os.ReadFile(c.Cert)
	if err != nil {
		return fmt.Sprintf("cannot read certificate: %v", err)
	}
	keyPEM, err := os.ReadFile(c.Key)
	if err != nil {
		return fmt.Sprintf("cannot read key: %v", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil && strings.Contains(err.Error(), "does not match") {
		return fmt.Sprintf("key file %s does not match certificate file %s (are the files from the same renewal?)", c.Key, c.Cert)
	}
	if err != nil {
		return fmt.Sprintf("certificate %s and key %s: %v", c.Cert, c.Key, err)
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return fmt.Sprintf("certificate %s: %v", c.Cert, err)
		}
	}
	if now.After(leaf.NotAfter) {
		return fmt.Sprintf("certificate %s expired on %s; renew it", c.Cert, leaf.NotAfter.UTC().Format(time.DateOnly))
	}
	if now.Before(leaf.NotBefore) {
		return fmt.Sprintf("certificate %s is not valid before %s", c.Cert, leaf.NotBefore.UTC().Format(time.RFC3339))
	}
	for _, n := range c.Names {
		if !certCovers(leaf, n) {
			return fmt.Sprintf("certificate %s does not cover %q (it is for %s)", c.Cert, n, strings.Join(certNames(leaf), ", "))
		}
	}
	return ""
}

// certCovers reports whether leaf is valid for name; a wildcard name is
// covered only by the same wildcard.
func certCovers(leaf *x509.Certificate, name string) bool {
	if strings.HasPrefix(name, "*.") {
		return slices.ContainsFunc(leaf.DNSNames, func(d string) bool { return strings.EqualFold(d, name) })
	}
	return leaf.VerifyHostname(name) == nil
}

func certNames(leaf *x509.Certificate) []string {
	names := slices.Clone(leaf.DNSNames)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		names = []string{"no names"}
	}
	return names
}

// checkCAFile requires a readable PEM file holding at least one certificate.
func checkCAFile(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("cannot read CA bundle: %v", err)
	}
	n := 0
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return fmt.Sprintf("CA bundle %s: %v", path, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Sprintf("CA bundle %s holds no PEM certificate", path)
	}
	return ""
}

// CipherSuiteID returns the ID of the cipher suite with IANA name name,
// secure or not (a route may single out clients using a weak one), and
// whether Go knows it. match.tls.ciphers is validated and compiled with
// it, so the two cannot disagree.
func CipherSuiteID(name string) (uint16, bool) {
	for _, list := range [][]*tls.CipherSuite{tls.CipherSuites(), tls.InsecureCipherSuites()} {
		for _, cs := range list {
			if cs.Name == name {
				return cs.ID, true
			}
		}
	}
	return 0, false
}

// placeholders reports unknown {name} placeholders in a header value.
func checkPlaceholders(val string) string {
	for rest := val; ; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return ""
		}
		rest = rest[i+1:]
		j := strings.IndexByte(rest, '}')
		if j < 0 {
			return ""
		}
		name := rest[:j]
		if isPlaceholderName(name) && !slices.Contains(Placeholders(), name) {
			return fmt.Sprintf("unknown placeholder {%s}; known: {%s}", name, strings.Join(Placeholders(), "}, {"))
		}
	}
}

// isPlaceholderName reports whether s looks like a placeholder name (lower
// case letters, digits and _), as opposed to literal text in braces.
func isPlaceholderName(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == ""
}
