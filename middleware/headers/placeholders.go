package headers

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/reqinfo"
	"github.com/gatehouse-proxy/gatehouse/tlsinfo"
)

// getter returns one placeholder's value for a request; "" when the fact
// does not apply (a TLS fact on plain HTTP).
type getter func(r *http.Request) string

// Placeholders returns the names a header value may use, the ones
// config validates (a test holds the two lists equal).
func Placeholders() []string {
	return []string{
		"client_ip", "scheme", "host", "request_id",
		"tls_version", "tls_cipher", "tls_sni", "tls_alpn",
		"tls_client_subject", "tls_client_issuer", "tls_client_serial",
		"tls_client_fingerprint", "tls_client_verified",
	}
}

// lookup returns the getter of the placeholder called name (without
// braces), nil for an unknown name. {client_ip} and {request_id} are
// what the request facts (reqinfo) resolved before routing.
func lookup(name string) getter {
	switch name {
	case "client_ip":
		return func(r *http.Request) string {
			if ip := reqinfo.From(r.Context()).ClientIP; ip.IsValid() {
				return ip.String()
			}
			return ""
		}
	case "request_id":
		return func(r *http.Request) string { return reqinfo.From(r.Context()).RequestID }
	case "scheme":
		return func(r *http.Request) string {
			if r.TLS != nil {
				return "https"
			}
			return "http"
		}
	case "host":
		return func(r *http.Request) string { return r.Host }
	case "tls_client_verified":
		return func(r *http.Request) string { return tlsinfo.VerifyStatus(r) }
	}
	if fact := tlsFact(name); fact != nil {
		return func(r *http.Request) string { return fact(r.TLS) }
	}
	return nil
}

// tlsFact returns the tlsinfo function behind a TLS placeholder.
func tlsFact(name string) func(*tls.ConnectionState) string {
	switch name {
	case "tls_version":
		return tlsinfo.Version
	case "tls_cipher":
		return tlsinfo.Cipher
	case "tls_sni":
		return tlsinfo.SNI
	case "tls_alpn":
		return tlsinfo.ALPN
	case "tls_client_subject":
		return tlsinfo.ClientSubject
	case "tls_client_issuer":
		return tlsinfo.ClientIssuer
	case "tls_client_serial":
		return tlsinfo.ClientSerial
	case "tls_client_fingerprint":
		return tlsinfo.ClientFingerprint
	}
	return nil
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
// placeholder is "{" name "}" where name is one or more lower-case
// letters, digits and underscores; an unknown such name is an error, as
// config's validation says. Any other text, braces included, is literal.
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
			return nil, fmt.Errorf("unknown placeholder {%s}; known: {%s}", name, strings.Join(Placeholders(), "}, {"))
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

// nameLen returns the length of the run of lower-case letters, digits and
// underscores s starts with: a placeholder name when a "}" follows.
func nameLen(s string) int {
	n := 0
	for n < len(s) && (s[n] >= 'a' && s[n] <= 'z' || s[n] >= '0' && s[n] <= '9' || s[n] == '_') {
		n++
	}
	return n
}

// expand returns the value of segs for r, without leading or trailing
// blanks (which a field value cannot carry), so that a value whose
// placeholders are all empty ends up empty. A single placeholder (the
// usual case, "{tls_client_subject}") costs only its fact.
func expand(segs []segment, r *http.Request) string {
	if r == nil {
		return ""
	}
	if len(segs) == 1 {
		return strings.Trim(segs[0].get(r), " \t")
	}
	var b strings.Builder
	b.Grow(64)
	for i := range segs {
		if s := &segs[i]; s.get == nil {
			b.WriteString(s.lit)
		} else {
			b.WriteString(s.get(r))
		}
	}
	return strings.Trim(b.String(), " \t")
}
