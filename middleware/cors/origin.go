package cors

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// maxOrigin bounds the Origin values looked at: a host name has at most
// 253 bytes, so anything longer is not an origin a browser sends.
const maxOrigin = 1024

// origin is a parsed serialized origin. s is canonical: scheme and host
// in lower case, the port omitted when it is the scheme's default. scheme, host and port are slices of s.
type origin struct {
	s, scheme, host, port string
}

// parseOrigin parses o, written scheme://host[:port] (host a name or a
// bracketed IPv6 literal). It returns o itself as s when o is canonical,
// as browsers send it, so the usual case does not allocate.
func parseOrigin(o string) (origin, bool) {
	if len(o) == 0 || len(o) > maxOrigin {
		return origin{}, false
	}
	i := strings.Index(o, "://")
	if i < 1 || !validScheme(o[:i]) {
		return origin{}, false
	}
	rest := o[i+3:]
	var host, port string
	if strings.HasPrefix(rest, "[") {
		j := strings.IndexByte(rest, ']')
		if j < 2 || !validIPv6(rest[1:j]) {
			return origin{}, false
		}
		host, rest = rest[:j+1], rest[j+1:]
	} else {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			j = len(rest)
		}
		host, rest = rest[:j], rest[j:]
		if !validHostName(host) {
			return origin{}, false
		}
	}
	canonical := !hasUpper(o[:i]) && !hasUpper(host)
	if rest != "" {
		if rest[0] != ':' {
			return origin{}, false
		}
		port = rest[1:]
		if !validPort(port) {
			return origin{}, false
		}
		if port == defaultPort(o[:i]) {
			port, canonical = "", false
		}
	}
	if canonical {
		return origin{s: o, scheme: o[:i], host: host, port: port}, true
	}
	var b strings.Builder
	b.Grow(len(o))
	writeLower(&b, o[:i])
	b.WriteString("://")
	writeLower(&b, host)
	if port != "" {
		b.WriteByte(':')
		b.WriteString(port)
	}
	s := b.String()
	return origin{s: s, scheme: s[:i], host: s[i+3 : i+3+len(host)], port: port}, true
}

// validScheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986).
func validScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isAlpha(c):
		case i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// validHostName accepts dot-separated non-empty labels of letters,
// digits, '-' and '_': what a browser serializes a host name (after
// IDNA) or an IPv4 address as. No trailing dot.
func validHostName(h string) bool {
	if h == "" || h[0] == '.' || h[len(h)-1] == '.' {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case isAlpha(c) || isDigit(c) || c == '-' || c == '_':
		case c == '.' && h[i-1] != '.':
		default:
			return false
		}
	}
	return true
}

// validIPv6 checks the characters of a bracketed literal only: origins
// with IPv6 hosts are compared as written (case-insensitively).
func validIPv6(s string) bool {
	colons := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
			colons++
		case isDigit(c) || c == '.' || 'a' <= c|0x20 && c|0x20 <= 'f':
		default:
			return false
		}
	}
	return colons >= 2
}

// validPort: 1 to 5 digits, at most 65535, no leading zero (a browser
// never writes one).
func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' && len(p) > 1 {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if !isDigit(p[i]) {
			return false
		}
		n = n*10 + int(p[i]-'0')
	}
	return n <= 65535
}

// defaultPort is the port of the URL standard's special schemes that an
// origin omits; scheme may be in any case.
func defaultPort(scheme string) string {
	switch strings.ToLower(scheme) {
	case "http", "ws":
		return "80"
	case "https", "wss":
		return "443"
	case "ftp":
		return "21"
	}
	return ""
}

func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func writeLower(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// matcher decides whether an Origin is allowed. Immutable after
// compileOrigins; safe for concurrent use.
type matcher struct {
	any   bool                // "*"
	exact map[string]struct{} // canonical origins
	wild  []wildcard
	res   []*regexp.Regexp // anchored, matched against canonical origins
}

// wildcard is "scheme://*.suffix[:port]", with suffix kept with its dot.
type wildcard struct {
	scheme, suffix, port string
}

// match reports whether the Origin value o is allowed. It allocates only
// for an Origin not written as browsers write them (upper case, a
// default port).
func (m *matcher) match(o string) bool {
	if m.any {
		return true
	}
	p, ok := parseOrigin(o)
	if !ok {
		return false
	}
	if _, ok := m.exact[p.s]; ok {
		return true
	}
	for i := range m.wild {
		w := &m.wild[i]
		// A valid host has no empty label, so one longer than ".suffix"
		// and ending in it has at least one label before it.
		if p.scheme == w.scheme && p.port == w.port && len(p.host) > len(w.suffix) && strings.HasSuffix(p.host, w.suffix) {
			return true
		}
	}
	for _, re := range m.res {
		if re.MatchString(p.s) {
			return true
		}
	}
	return false
}

var errNoOrigins = errors.New("allow_origins is empty: no origin would be allowed")

// compileOrigins builds the matcher of patterns (see
// Options.AllowOrigins), or says which one is wrong and why.
func compileOrigins(patterns []string) (*matcher, error) {
	if len(patterns) == 0 {
		return nil, errNoOrigins
	}
	m := &matcher{exact: map[string]struct{}{}}
	for _, pat := range patterns {
		if err := m.add(pat); err != nil {
			return nil, fmt.Errorf("allow_origins %q: %w", pat, err)
		}
	}
	if m.any && len(patterns) > 1 {
		return nil, errors.New(`allow_origins: "*" allows every origin; list it alone`)
	}
	return m, nil
}

func (m *matcher) add(pat string) error {
	switch {
	case pat == "*":
		m.any = true
		return nil
	case strings.EqualFold(pat, "null"):
		return errors.New(`"null" is the origin of sandboxed frames and local files, which any page can have`)
	case strings.HasPrefix(pat, "~"):
		return m.addRegexp(pat[1:])
	}
	i := strings.Index(pat, "://")
	if i >= 0 && strings.HasPrefix(pat[i+3:], "*.") {
		return m.addWildcard(pat[:i], pat[i+5:])
	}
	p, ok := parseOrigin(pat)
	if !ok {
		return errors.New(`not an origin: write scheme://host[:port] with no path or trailing slash, "https://*.example.com", "~^regexp$" or "*"`)
	}
	m.exact[p.s] = struct{}{}
	return nil
}

func (m *matcher) addWildcard(scheme, rest string) error {
	p, ok := parseOrigin(scheme + "://" + rest)
	if !ok || strings.HasPrefix(p.host, "[") {
		return errors.New(`a wildcard is "scheme://*.example.com[:port]": "*." then a host name`)
	}
	last := p.host[strings.LastIndexByte(p.host, '.')+1:]
	if strings.Trim(last, "0123456789") == "" {
		return errors.New("an IP address has no subdomains")
	}
	if last == p.host && p.host != "localhost" {
		return fmt.Errorf("*.%s would allow every site under a top-level domain", p.host)
	}
	m.wild = append(m.wild, wildcard{scheme: p.scheme, suffix: "." + p.host, port: p.port})
	return nil
}

func (m *matcher) addRegexp(expr string) error {
	if !strings.HasPrefix(expr, "^") || !endsWithAnchor(expr) {
		return errors.New(`a regular expression must be anchored, "~^...$": unanchored, "https://a\.example\.com" also matches "https://a.example.com.evil.net"`)
	}
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		return err
	}
	m.res = append(m.res, re)
	return nil
}

// endsWithAnchor reports whether expr ends with a $ that is not escaped
// (preceded by an even number of backslashes).
func endsWithAnchor(expr string) bool {
	if !strings.HasSuffix(expr, "$") {
		return false
	}
	n := 0
	for i := len(expr) - 2; i >= 0 && expr[i] == '\\'; i-- {
		n++
	}
	return n%2 == 0
}
