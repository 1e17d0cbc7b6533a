package headers

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/tlsinfo"
)

// Facts returns what Gatehouse resolved about a request before routing and
// a header value may refer to: the client's address after trusted-proxy
// resolution ({client_ip}; the zero Addr when unknown) and the request ID
// ({request_id}). Package runtime supplies one that reads proxy.Info;
// headers cannot, since proxy imports headers.
type Facts func(r *http.Request) (clientIP netip.Addr, requestID string)

// getter returns one placeholder's value for a request; "" when the fact
// does not apply (a TLS fact on plain HTTP).
type getter func(r *http.Request, f Facts) string

// lookup returns the getter of the placeholder called name (without
// braces), nil for an unknown name. The names are those documented on
// config.HeaderOps.
func lookup(name string) getter {
	switch name {
	case "client_ip":
		return func(r *http.Request, f Facts) string {
			if ip, _ := facts(r, f); ip.IsValid() {
				return ip.String()
			}
			return ""
		}
	case "request_id":
		return func(r *http.Request, f Facts) string { _, id := facts(r, f); return id }
	case "scheme":
		return func(r *http.Request, _ Facts) string {
			if r.TLS != nil {
				return "https"
			}
			return "http"
		}
	case "host":
		return func(r *http.Request, _ Facts) string { return r.Host }
	case "tls_client_verified":
		return func(r *http.Request, _ Facts) string { return tlsinfo.VerifyStatus(r) }
	}
	if fact := tlsFact(name); fact != nil {
		return func(r *http.Request, _ Facts) string { return fact(r) }
	}
	return nil
}

// tlsFact returns the tlsinfo function behind a TLS placeholder.
func tlsFact(name string) func(*http.Request) string {
	var f func(*tls.ConnectionState) string
	switch name {
	case "tls_version":
		f = tlsinfo.Version
	case "tls_cipher":
		f = tlsinfo.Cipher
	case "tls_sni":
		f = tlsinfo.SNI
	case "tls_alpn":
		f = tlsinfo.ALPN
	case "tls_client_subject":
		f = tlsinfo.ClientSubject
	case "tls_client_issuer":
		f = tlsinfo.ClientIssuer
	case "tls_client_serial":
		f = tlsinfo.ClientSerial
	case "tls_client_fingerprint":
		f = tlsinfo.ClientFingerprint
	default:
		return nil
	}
	return func(r *http.Request) string { return f(r.TLS) }
}

func facts(r *http.Request, f Facts) (netip.Addr, string) {
	if f == nil {
		return netip.Addr{}, ""
	}
	return f(r)
}

// segment is a piece of a header value: literal text, or a placeholder
// (get not nil) named name.
type segment struct {
	lit  string
	name string
	get  getter
}

// parse splits a header value into segments. It returns nil segments for
// a value without placeholders, which is then used as it is. A
// placeholder is "{" name "}" where name is a lower-case letter followed
// by lower-case letters, digits and underscores; an unknown such name is
// an error. Any other text, braces included, is literal.
func parse(v string) ([]segment, error) {
	var segs []segment
	lit := 0 // start of the pending literal text
	for i := 0; i < len(v); i++ {
		if v[i] != '{' {
			continue
		}
		n := nameLen(v[i+1:])
		if n == 0 || i+1+n >= len(v) || v[i+1+n] != '}' {
			continue
		}
		name := v[i+1 : i+1+n]
		get := lookup(name)
		if get == nil {
			return nil, fmt.Errorf("unknown placeholder {%s}; known: {%s}", name, strings.Join(names(), "}, {"))
		}
		if lit < i {
			segs = append(segs, segment{lit: v[lit:i]})
		}
		segs = append(segs, segment{name: name, get: get})
		i += n + 1
		lit = i + 1
	}
	if segs != nil && lit < len(v) {
		segs = append(segs, segment{lit: v[lit:]})
	}
	return segs, nil
}

// nameLen returns the length of the placeholder name s starts with: a
// lower-case letter, then lower-case letters, digits or underscores.
func nameLen(s string) int {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return 0
	}
	n := 1
	for n < len(s) && (s[n] >= 'a' && s[n] <= 'z' || s[n] >= '0' && s[n] <= '9' || s[n] == '_') {
		n++
	}
	return n
}

// names lists every placeholder, as config.HeaderOps documents them.
func names() []string {
	return []string{
		"client_ip", "scheme", "host", "request_id",
		"tls_version", "tls_cipher", "tls_sni", "tls_alpn",
		"tls_client_subject", "tls_client_issuer", "tls_client_serial",
		"tls_client_fingerprint", "tls_client_verified",
	}
}

// expand returns the value of segs for r. A single placeholder (the usual
// case, "{tls_client_subject}") costs only its fact.
func expand(segs []segment, r *http.Request, f Facts) string {
	if r == nil {
		return ""
	}
	if len(segs) == 1 {
		return segs[0].get(r, f)
	}
	var b strings.Builder
	b.Grow(64)
	for i := range segs {
		if s := &segs[i]; s.get == nil {
			b.WriteString(s.lit)
		} else {
			b.WriteString(s.get(r, f))
		}
	}
	return b.String()
}
