package tlsx

import (
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// pair is one loaded certificate and key, checked and ready to serve.
type pair struct {
	cert  *tls.Certificate
	names []string // served names, normalized: configured or the certificate's own
	hash  [sha256.Size]byte
}

// pairFiles names a certificate's files and the names configured for it.
type pairFiles struct {
	cert, key string
	names     []string // as configured; empty means the certificate's own
}

// loadPair reads and checks f's files: both PEM, the key matching the
// certificate, the certificate valid at now and covering every configured
// name. Errors name the file at fault and say how to fix it.
func loadPair(f pairFiles, now time.Time) (*pair, error) {
	certPEM, keyPEM, err := readPair(f)
	if err != nil {
		return nil, err
	}
	return parsePair(f, certPEM, keyPEM, now)
}

func readPair(f pairFiles) (certPEM, keyPEM []byte, err error) {
	certPEM, err = os.ReadFile(f.cert)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate file %s: cannot read: %w", f.cert, unwrapPath(err))
	}
	keyPEM, err = os.ReadFile(f.key)
	if err != nil {
		return nil, nil, fmt.Errorf("key file %s: cannot read: %w", f.key, unwrapPath(err))
	}
	return certPEM, keyPEM, nil
}

func parsePair(f pairFiles, certPEM, keyPEM []byte, now time.Time) (*pair, error) {
	chain, err := parseChain(certPEM)
	if err != nil {
		return nil, fmt.Errorf("certificate file %s: %w", f.cert, err)
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return nil, fmt.Errorf("certificate file %s: the first certificate cannot be parsed: %w", f.cert, err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", f.key, err)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(leaf.PublicKey) {
		return nil, fmt.Errorf("key file %s does not match certificate file %s (the certificate was issued for another key; are the files from the same renewal?)", f.key, f.cert)
	}
	if err := checkValidity(leaf, now); err != nil {
		return nil, fmt.Errorf("certificate file %s: %w", f.cert, err)
	}
	names, err := servedNames(leaf, f.names)
	if err != nil {
		return nil, fmt.Errorf("certificate file %s: %w", f.cert, err)
	}
	h := sha256.New()
	h.Write(certPEM)
	h.Write(keyPEM)
	p := &pair{
		cert:  &tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf},
		names: names,
	}
	h.Sum(p.hash[:0])
	return p, nil
}

// parseChain returns the DER of every CERTIFICATE block, leaf first.
func parseChain(data []byte) ([][]byte, error) {
	var chain [][]byte
	var other []string
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			chain = append(chain, b.Bytes)
		} else {
			other = append(other, b.Type)
		}
	}
	switch {
	case len(chain) > 0:
		return chain, nil
	case len(other) > 0:
		return nil, fmt.Errorf("holds %s but no CERTIFICATE block (are cert and key swapped?)", strings.Join(other, ", "))
	default:
		return nil, errors.New("is not PEM: expected -----BEGIN CERTIFICATE----- (for a DER file: openssl x509 -inform der -in FILE -out FILE.pem)")
	}
}

// parseKey returns the first private key block, in PKCS #8, PKCS #1 or
// SEC 1 form.
func parseKey(data []byte) (crypto.Signer, error) {
	var other []string
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] == "4,ENCRYPTED" {
			return nil, errors.New("is encrypted; Gatehouse needs an unencrypted key (openssl pkey -in FILE -out PLAIN.key)")
		}
		if !strings.HasSuffix(b.Type, "PRIVATE KEY") {
			other = append(other, b.Type)
			continue
		}
		key, err := parseKeyDER(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("the %s block cannot be parsed: %w", b.Type, err)
		}
		return key, nil
	}
	if len(other) > 0 {
		return nil, fmt.Errorf("holds %s but no PRIVATE KEY block (are cert and key swapped?)", strings.Join(other, ", "))
	}
	return nil, errors.New("is not PEM: expected -----BEGIN PRIVATE KEY----- (or RSA/EC PRIVATE KEY)")
}

func parseKeyDER(der []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
		return nil, fmt.Errorf("unsupported key type %T", k)
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("not a PKCS #8, PKCS #1 (RSA) or SEC 1 (EC) private key")
}

func checkValidity(leaf *x509.Certificate, now time.Time) error {
	const layout = "2006-01-02 15:04:05 MST"
	if now.After(leaf.NotAfter) {
		return fmt.Errorf("expired on %s (NotAfter); renew it", leaf.NotAfter.UTC().Format(layout))
	}
	if now.Before(leaf.NotBefore) {
		return fmt.Errorf("not yet valid: valid from %s (NotBefore); check the clocks of this machine and of the issuer", leaf.NotBefore.UTC().Format(layout))
	}
	return nil
}

// servedNames returns the normalized names to serve leaf for: every
// configured name (each must be covered by leaf), or leaf's own DNS and IP
// names.
func servedNames(leaf *x509.Certificate, configured []string) ([]string, error) {
	if len(configured) == 0 {
		var names []string
		for _, n := range leaf.DNSNames {
			names = append(names, normalize(n))
		}
		for _, ip := range leaf.IPAddresses {
			names = append(names, ip.String())
		}
		if len(names) == 0 {
			return nil, errors.New("has no DNS or IP names (subject alternative names); clients ignore the common name, so no one would accept it")
		}
		return names, nil
	}
	names := make([]string, 0, len(configured))
	for _, n := range configured {
		n = normalize(n)
		if err := checkPattern(n); err != nil {
			return nil, fmt.Errorf("name %q: %w", n, err)
		}
		if !covers(leaf, n) {
			return nil, fmt.Errorf("wrong name: it does not cover %q; it covers %s", n, describeNames(leaf))
		}
		names = append(names, n)
	}
	return names, nil
}

// checkPattern refuses names that cannot match a host name.
func checkPattern(n string) error {
	base := n
	if rest, ok := strings.CutPrefix(n, "*."); ok {
		base = rest
	}
	if base == "" || strings.Contains(base, "*") || strings.HasPrefix(base, ".") || strings.Contains(base, "..") {
		return errors.New(`not a host name: use "host.example.com" or "*.example.com" (a wildcard only as the whole first label)`)
	}
	return nil
}

// covers reports whether leaf is valid for name, an exact host, IP or
// "*.example.com" (which leaf must list as such).
func covers(leaf *x509.Certificate, name string) bool {
	if strings.HasPrefix(name, "*.") {
		for _, d := range leaf.DNSNames {
			if normalize(d) == name {
				return true
			}
		}
		return false
	}
	return leaf.VerifyHostname(name) == nil
}

func describeNames(leaf *x509.Certificate) string {
	names := append([]string(nil), leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return "no names"
	}
	return strings.Join(names, ", ")
}

// normalize lowercases name and drops a trailing dot, allocating only when
// name has upper-case letters or is an IPv6 literal.
func normalize(name string) string {
	name = strings.TrimSuffix(name, ".")
	if strings.IndexByte(name, ':') >= 0 {
		if ip := net.ParseIP(name); ip != nil {
			return ip.String() // one spelling of each IPv6 address
		}
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(name)
		}
	}
	return name
}

// unwrapPath drops the *PathError wrapper, whose message repeats the path
// the caller already names.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
