package urlpath

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
