package urlpath

import "strings"

const upperHex = "0123456789ABCDEF"

// isUnreserved reports whether c is an RFC 3986 unreserved character, the
// only ones Normalize decodes: their escaped and raw forms mean the same.
func isUnreserved(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return c == '-' || c == '.' || c == '_' || c == '~'
}

// isControl reports whether c is an ASCII control byte, which no path may
// carry raw.
func isControl(c byte) bool {
	return c < 0x20 || c == 0x7f
}

// unhex returns the value of the hex digit c, either case.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// isUpperHex reports whether c is a hex digit in the normal (upper) case.
func isUpperHex(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'F'
}

// unescape decodes the escape whose '%' is at s[i]. ok is false when s[i+1]
// and s[i+2] are not two hex digits.
func unescape(s string, i int) (v byte, ok bool) {
	if i+2 >= len(s) {
		return 0, false
	}
	hi, ok1 := unhex(s[i+1])
	lo, ok2 := unhex(s[i+2])
	return hi<<4 | lo, ok1 && ok2
}

// EscapeRaw percent-encodes every byte of an escaped path that may not
// stand raw in a URI path (RFC 3986 pchar, plus "/"), leaving existing
// escapes alone. The result means the same path, and is accepted by
// net/url and by browsers alike; a backslash, which browsers read as "/",
// always comes out as %5C. It allocates only when something is escaped.
func EscapeRaw(p string) string {
	n := 0
	for i := 0; i < len(p); i++ {
		if !rawOK(p[i]) {
			n++
		}
	}
	if n == 0 {
		return p
	}
	b := make([]byte, 0, len(p)+2*n)
	for i := 0; i < len(p); i++ {
		if c := p[i]; rawOK(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return string(b)
}

func rawOK(c byte) bool {
	return isUnreserved(c) || strings.IndexByte("!$&'()*+,;=:@/%", c) >= 0
}
