package policy

// Lexical helpers for the HTTP field syntax of RFC 9110 section 5.6. They
// work on strings in place and do not allocate.

// maxDelta is the value RFC 9111 section 1.2.2 has a cache use for a
// delta-seconds value it cannot represent or a calculation that
// overflows: 2^31 seconds, "infinity (over 68 years)".
const maxDelta = 2147483648

// tchars marks the bytes that may appear in a token (RFC 9110 5.6.2). It
// is built once and never written.
var tchars = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// isTchar reports whether c may appear in a token.
func isTchar(c byte) bool { return tchars[c] }

// isToken reports whether s is a non-empty token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

func isOWS(c byte) bool { return c == ' ' || c == '\t' }

// trimOWS removes optional whitespace (SP, HTAB) at both ends of s.
func trimOWS(s string) string {
	for len(s) > 0 && isOWS(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isOWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// nextMember splits the first member off a comma-separated list (RFC 9110
// 5.6.1), honouring quoted strings so that a comma inside quotes does not
// split. It returns the member with its surrounding whitespace trimmed and
// the rest of the list after the comma. Empty members are returned as ""
// for the caller to skip, as recipients must (5.6.1).
func nextMember(s string) (member, rest string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == ',':
			return trimOWS(s[:i]), s[i+1:]
		}
	}
	return trimOWS(s), ""
}

// parseDelta parses delta-seconds (RFC 9111 1.2.2): one or more digits. A
// value too large to represent is clamped to maxDelta, as 1.2.2 requires.
func parseDelta(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < maxDelta {
			n = n*10 + int64(c-'0')
		}
	}
	return min(n, maxDelta), true
}

// unquote returns the content of the quoted-string q (RFC 9110 5.6.4),
// which starts and ends with DQUOTE, with quoted-pairs resolved. It
// allocates only when q contains a backslash.
func unquote(q string) (string, bool) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", false
	}
	q = q[1 : len(q)-1]
	plain := true
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == '"':
			return "", false
		case c == '\\':
			plain = false
			i++
			if i == len(q) {
				return "", false
			}
		case c < ' ' && c != '\t', c == 0x7f:
			return "", false
		}
	}
	if plain {
		return q, true
	}
	b := make([]byte, 0, len(q))
	for i := 0; i < len(q); i++ {
		if q[i] == '\\' {
			i++
		}
		b = append(b, q[i])
	}
	return string(b), true
}

// scanQuoted returns the length of the quoted-string at the start of s,
// including both quotes, or -1 when it is not terminated.
func scanQuoted(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// hasListToken reports whether any of the comma-separated lines holds tok
// as a member, compared case-insensitively.
func hasListToken(lines []string, tok string) bool {
	for _, l := range lines {
		for l != "" {
			var m string
			m, l = nextMember(l)
			if equalFold(m, tok) {
				return true
			}
		}
	}
	return false
}

// equalFold is an ASCII-only strings.EqualFold: field syntax is ASCII, and
// a non-ASCII byte never matches a letter.
func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	if a == b {
		return true // the common case: directives are sent in lower case
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
