package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// The checks below return "" when their input is fine, else a message that
// completes "<path>: ...".

// isToken reports whether s is an HTTP token (RFC 9110), as header names,
// methods and cookie names must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !isTokenByte(c) {
			return false
		}
	}
	return true
}

func isTokenByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// checkHeaderValue rejects bytes that would split or end a header, and the
// other control characters net/http refuses to send (RFC 9110 section 5.5).
func checkHeaderValue(v string) string {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return fmt.Sprintf("header value %q must not contain control characters such as CR, LF or NUL", v)
		}
	}
	return ""
}

// isDNSName reports whether s is a host name: dot-separated labels of
// letters, digits, "-" and "_" (seen in internal names), 1-63 bytes each,
// not starting or ending with "-", at most 253 bytes, and not all digits in
// the last label (that would be a mistyped IPv4 address).
func isDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range []byte(l) {
			if !(c == '-' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				return false
			}
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}

// checkHost accepts a DNS name or an IP literal without a zone (IPv6 with
// or without brackets), without a port.
func checkHost(h string) string {
	if inner, ok := strings.CutPrefix(h, "["); ok {
		ip, err := netip.ParseAddr(strings.TrimSuffix(inner, "]"))
		if err != nil || !ip.Is6() || !strings.HasSuffix(inner, "]") {
			return fmt.Sprintf("%q is not a valid IPv6 address", h)
		}
		h = ip.String()
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		if ip.Zone() != "" {
			return fmt.Sprintf("%q must not have an IPv6 zone", h)
		}
		return ""
	}
	if isDNSName(h) {
		return ""
	}
	if strings.Contains(h, ":") {
		return fmt.Sprintf("%q is not a host name or IP address; it must not have a port", h)
	}
	return fmt.Sprintf("%q is not a valid host name or IP address", h)
}

// checkHostPort accepts host:port, an empty host only if emptyHost, and a
// missing port only if !needPort. Port 0 is accepted only with emptyHost,
// i.e. for listeners, where it means any free port (useful in tests).
func checkHostPort(s string, emptyHost, needPort bool) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if needPort {
			return fmt.Sprintf("%q is not host:port, e.g. 127.0.0.1:8080 or :8080", s)
		}
		return checkHost(s)
	}
	low := 1
	if emptyHost {
		low = 0
	}
	if p, err := strconv.Atoi(port); err != nil || p < low || p > 65535 || port[0] == '+' {
		return fmt.Sprintf("port %q in %q must be a number from %d to 65535", port, s, low)
	}
	if host == "" {
		if emptyHost {
			return ""
		}
		return fmt.Sprintf("%q has no host", s)
	}
	return checkHost(host)
}

// checkMatchHost accepts what a route's match.host may hold: a host name, an
// IP literal, or "*." followed by a name of at least two labels.
func checkMatchHost(h string) string {
	name, wild := strings.CutPrefix(h, "*.")
	switch {
	case h == "":
		return "empty host name"
	case strings.Contains(name, "*"):
		return fmt.Sprintf("host %q: a wildcard is only allowed as a whole first label, as in *.example.com", h)
	case wild && !isDNSName(name):
		return fmt.Sprintf("host %q: %q is not a valid host name", h, name)
	case wild && !strings.Contains(name, "."):
		return fmt.Sprintf("host %q: a wildcard needs at least two labels after it, as in *.example.com", h)
	case wild:
		return ""
	}
	return checkHost(h)
}

// checkPath requires a path in normal form, as routers compare it: starting
// with "/", no empty, "." or ".." segments (except a trailing slash), only
// characters allowed in a URL path, and percent-escapes that are
// upper-case and do not encode characters that need no escaping.
func checkPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		return fmt.Sprintf("path %q must start with /", p)
	}
	segs := strings.Split(p[1:], "/")
	for i, seg := range segs {
		if seg == "" && i < len(segs)-1 || seg == "." || seg == ".." {
			return fmt.Sprintf("path %q is not normal: remove empty, . and .. segments", p)
		}
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '%' {
			if msg := checkEscape(p, i); msg != "" {
				return msg
			}
			i += 2
		} else if c >= 0x80 {
			return fmt.Sprintf("path %q: percent-encode non-ASCII characters as UTF-8, e.g. é as %%C3%%A9", p)
		} else if c != '/' && !isPathByte(c) {
			return fmt.Sprintf("path %q: percent-encode %q as %%%02X", p, c, c)
		}
	}
	return ""
}

func checkEscape(p string, i int) string {
	if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
		return fmt.Sprintf("path %q has an invalid percent-escape; write %% as %%25", p)
	}
	esc := p[i : i+3]
	b, _ := strconv.ParseUint(esc[1:], 16, 8)
	switch {
	case b == 0:
		return fmt.Sprintf("path %q must not contain %%00", p)
	case isUnreserved(byte(b)):
		return fmt.Sprintf("path %q is not normal: write %s as %q", p, esc, string(rune(b)))
	case esc != strings.ToUpper(esc):
		return fmt.Sprintf("path %q is not normal: write %s as %s", p, esc, strings.ToUpper(esc))
	}
	return ""
}

// isPathByte reports whether c may appear unescaped in a path segment
// (RFC 3986 pchar, apart from percent-escapes).
func isPathByte(c byte) bool {
	return isUnreserved(c) || strings.IndexByte("!$&'()*+,;=:@", c) >= 0
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// trimSlash drops a trailing slash, which a match path or prefix may have
// without changing its meaning; "/" stays "/".
func trimSlash(p string) string {
	if len(p) > 1 {
		return strings.TrimSuffix(p, "/")
	}
	return p
}

// hasSegmentPrefix reports whether prefix is p or p's leading segments.
func hasSegmentPrefix(p, prefix string) bool {
	p, prefix = trimSlash(p), trimSlash(prefix)
	if prefix == "/" {
		return true
	}
	rest, ok := strings.CutPrefix(p, prefix)
	return ok && (rest == "" || rest[0] == '/')
}
