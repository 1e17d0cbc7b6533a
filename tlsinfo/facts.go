package tlsinfo

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
)

// The facts below read a connection's TLS state. Each returns "" for a nil
// state (plain HTTP), and the client certificate facts also when the
// client presented no certificate. They describe the certificate whether
// or not it verified; check Verified before trusting them. Every fact is
// safe to put in a header: control characters, which a client could place
// in its certificate's names or its SNI, are written as RFC 4514 hex
// escapes ("\0A").

// Version is the negotiated protocol version: "1.2" or "1.3" (or "1.0",
// "1.1" where a listener allows them).
func Version(cs *tls.ConnectionState) string {
	if cs == nil {
		return ""
	}
	switch cs.Version {
	case tls.VersionTLS13:
		return "1.3"
	case tls.VersionTLS12:
		return "1.2"
	case tls.VersionTLS11:
		return "1.1"
	case tls.VersionTLS10:
		return "1.0"
	}
	return tls.VersionName(cs.Version)
}

// Cipher is the IANA name of the negotiated cipher suite, such as
// TLS_AES_128_GCM_SHA256.
func Cipher(cs *tls.ConnectionState) string {
	if cs == nil {
		return ""
	}
	return tls.CipherSuiteName(cs.CipherSuite)
}

// SNI is the server name the client asked for, as it sent it (case
// kept), "" when it sent none.
func SNI(cs *tls.ConnectionState) string {
	if cs == nil {
		return ""
	}
	return printable(cs.ServerName)
}

// ALPN is the application protocol negotiated by ALPN ("h2", "http/1.1"),
// "" when none was.
func ALPN(cs *tls.ConnectionState) string {
	if cs == nil {
		return ""
	}
	return cs.NegotiatedProtocol
}

// ClientSubject is the client certificate's subject in RFC 2253 form, e.g.
// "CN=alice,O=Example".
func ClientSubject(cs *tls.ConnectionState) string {
	if leaf := clientLeaf(cs); leaf != nil {
		return printable(leaf.Subject.String())
	}
	return ""
}

// ClientIssuer is the client certificate's issuer in RFC 2253 form.
func ClientIssuer(cs *tls.ConnectionState) string {
	if leaf := clientLeaf(cs); leaf != nil {
		return printable(leaf.Issuer.String())
	}
	return ""
}

// ClientSerial is the client certificate's serial number in lower-case
// hexadecimal, without leading zeros.
func ClientSerial(cs *tls.ConnectionState) string {
	if leaf := clientLeaf(cs); leaf != nil && leaf.SerialNumber != nil {
		return leaf.SerialNumber.Text(16)
	}
	return ""
}

// ClientFingerprint is the SHA-256 of the client certificate's DER
// encoding, in lower-case hexadecimal.
func ClientFingerprint(cs *tls.ConnectionState) string {
	if leaf := clientLeaf(cs); leaf != nil {
		sum := sha256.Sum256(leaf.Raw)
		return hex.EncodeToString(sum[:])
	}
	return ""
}

// Verification results, as VerifyStatus reports them (the words nginx
// uses for $ssl_client_verify).
const (
	StatusSuccess = "SUCCESS" // a certificate verified against the listener's CA
	StatusNone    = "NONE"    // no certificate was presented
	StatusFailed  = "FAILED"  // a certificate was presented and did not verify
)

// VerifyStatus says whether the request's client certificate verified
// against the listener's CA, as Verified(r, nil) decides; "" for plain
// HTTP.
func VerifyStatus(r *http.Request) string {
	switch {
	case r.TLS == nil:
		return ""
	case len(r.TLS.PeerCertificates) == 0:
		return StatusNone
	case Verified(r, nil):
		return StatusSuccess
	}
	return StatusFailed
}

func clientLeaf(cs *tls.ConnectionState) *x509.Certificate {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return nil
	}
	return cs.PeerCertificates[0]
}

// printable returns s with each control character (other than tab) as a
// backslash and two hex digits, as RFC 4514 escapes DN characters. It
// returns s itself when there is none, the usual case.
func printable(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f })
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			fmt.Fprintf(&b, "\\%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
