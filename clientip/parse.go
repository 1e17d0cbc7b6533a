package clientip

import (
	"net/netip"
	"strings"
)

// forwarded walks the lines of an RFC 7239 Forwarded header by the for=
// parameter of each element.
//
// Elements are split from the right, so a malformed element can only affect
// what lies to its left: a client's unterminated quote cannot swallow the
// element a trusted proxy appended after it.
func (w *walk) forwarded(lines []string) {
	for i := len(lines) - 1; i >= 0; i-- {
		s := lines[i]
		for s != "" {
			var e string
			var ok bool
			if s, e, ok = cutLastElement(s); !ok {
				w.step(netip.Addr{}, false) // not an address: the walk stops
				return
			}
			if e = trimOWS(e); e == "" {
				continue
			}
			if !w.step(forParam(e)) {
				return
			}
		}
	}
}

// cutLastElement splits s at its last comma outside a quoted string. ok is
// false if a quoted string is not terminated.
func cutLastElement(s string) (rest, elem string, ok bool) {
	quoted := false
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case '"':
			// Seen from the right, a quote preceded by an odd number of
			// backslashes is escaped (a quoted-pair), and only inside a string.
			if !quoted || !escaped(s, i) {
				quoted = !quoted
			}
		case ',':
			if !quoted {
				return s[:i], s[i+1:], true
			}
		}
	}
	return "", s, !quoted
}

// escaped reports whether s[i] is preceded by an odd number of backslashes.
func escaped(s string, i int) bool {
	n := 0
	for i--; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// forParam parses the for= parameter of one Forwarded element. ok is false
// if the element is malformed, has no for= or has more than one, or if the
// value is not an address.
func forParam(elem string) (netip.Addr, bool) {
	var val string
	found := false
	for elem != "" {
		pair, rest, ok := cutPair(elem)
		if !ok {
			return netip.Addr{}, false
		}
		elem = rest
		if pair = trimOWS(pair); pair == "" {
			continue // the grammar allows empty pairs: "for=x;;proto=http"
		}
		name, v, ok := strings.Cut(pair, "=")
		if !ok {
			return netip.Addr{}, false
		}
		if strings.EqualFold(trimOWS(name), "for") {
			if found {
				return netip.Addr{}, false // RFC 7239 section 4: at most once
			}
			found, val = true, trimOWS(v)
		}
	}
	if !found {
		return netip.Addr{}, false
	}
	val, ok := unquote(val)
	if !ok {
		return netip.Addr{}, false
	}
	return parseNode(val)
}

// cutPair splits s at its first semicolon outside a quoted string. ok is
// false if a quoted string is not terminated.
func cutPair(s string) (pair, rest string, ok bool) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if quoted {
				i++ // skip the escaped character
			}
		case '"':
			quoted = !quoted
		case ';':
			if !quoted {
				return s[:i], s[i+1:], true
			}
		}
	}
	return s, "", !quoted
}

// unquote returns the content of a quoted-string, or a token as it is.
// Unquoted values are accepted even when not tokens ("for=[2001:db8::1]:80"),
// as some proxies write them. Only a value with a quoted-pair allocates.
func unquote(v string) (string, bool) {
	if !strings.HasPrefix(v, `"`) {
		return v, !strings.Contains(v, `"`)
	}
	if len(v) < 2 || v[len(v)-1] != '"' {
		return "", false
	}
	v = v[1 : len(v)-1]
	if !strings.ContainsAny(v, `"\`) {
		return v, true
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			if i++; i == len(v) {
				return "", false // the closing quote was escaped
			}
			b = append(b, v[i])
		case '"':
			return "", false
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

// parseNode parses one hop: an IPv4 address with an optional port, or an IPv6
// address, bare or in brackets with an optional port. The port may be an RFC
// 7239 obfuscated one ("_abc"). The result is unmapped and has no zone.
func parseNode(s string) (netip.Addr, bool) {
	host := s
	want6 := false
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		host, s = s[1:end], s[end+1:]
		want6 = true
		if s != "" && (s[0] != ':' || !validPort(s[1:])) {
			return netip.Addr{}, false
		}
	} else if i := strings.IndexByte(s, ':'); i >= 0 && strings.IndexByte(s[i+1:], ':') < 0 {
		// One colon: IPv4 with a port. Two or more: bare IPv6.
		if !validPort(s[i+1:]) {
			return netip.Addr{}, false
		}
		host = s[:i]
	}
	// Cheap rejection of "unknown" and "_hidden", which would otherwise cost
	// ParseAddr an allocated error.
	if host == "" || !(isHex(host[0]) || host[0] == ':') {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(host)
	if err != nil || want6 && !a.Is6() {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// validPort reports whether p is 1*5DIGIT or an obfuscated port
// ("_" 1*(ALPHA / DIGIT / "." / "_" / "-")), per RFC 7239 section 6.
func validPort(p string) bool {
	if p == "" {
		return false
	}
	if p[0] == '_' {
		for i := 1; i < len(p); i++ {
			if c := p[i]; !(isAlnum(c) || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
		return len(p) > 1
	}
	if len(p) > 5 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// cutLast splits s around its last comma; without one, rest is "".
func cutLast(s string) (rest, last string) {
	if i := strings.LastIndexByte(s, ','); i >= 0 {
		return s[:i], s[i+1:]
	}
	return "", s
}

// trimOWS trims optional whitespace (spaces and tabs).
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
