package policy

import (
	"net/http"
	"net/textproto"
	"slices"
	"strings"
)

// ParseVary returns the field names a response's Vary nominates (RFC 9110
// 12.5.5, RFC 9111 4.1), canonical, without duplicates and sorted, from
// every Vary line. star reports a "*" member: such a response never
// matches a later request (4.1). A member that is not a field name makes
// the Vary value invalid, and it is reported as star too: a response
// whose selecting fields cannot be known must not be reused unvalidated.
// Without Vary, names is nil and ParseVary does not allocate.
func ParseVary(h http.Header) (names []string, star bool) {
	for _, line := range h["Vary"] {
		for line != "" {
			var m string
			if m, line = nextMember(line); m == "" {
				continue
			}
			if m == "*" || !isToken(m) {
				star = true
				continue
			}
			if c := textproto.CanonicalMIMEHeaderKey(m); !containsString(names, c) {
				names = append(names, c)
			}
		}
	}
	slices.Sort(names)
	return names, star
}

// FormatVary formats names as a Vary field value ("*" when star).
// ParseVary(FormatVary(ParseVary(h))) gives ParseVary(h) back.
func FormatVary(names []string, star bool) string {
	if star {
		return "*"
	}
	return strings.Join(names, ", ")
}

// AbsentValue is what NormalizeValue returns for a field the request does
// not have. A field value never contains NUL (NormalizeValue replaces it
// with SP as RFC 9110 5.5 allows), so an absent field never matches a
// present one, however empty (4.1: "If ... a header field is absent from a
// request, it can only match another request if it is also absent").
const AbsentValue = "\x00"

// NormalizeValue returns the value of the request field name, given all
// its field lines, in the form two requests' values are compared in for
// Vary (RFC 9111 4.1). Values that normalize alike match:
//
//   - the lines are combined into one comma-separated list (4.1: "combining
//     multiple header field lines");
//   - whitespace around the commas that separate members, and at both
//     ends, is removed, and empty members are dropped (4.1: "adding or
//     removing whitespace, where allowed"; RFC 9110 5.6.1); commas and
//     whitespace inside quoted strings are kept;
//   - the value is lower-cased for Accept-Encoding, Accept-Charset and
//     Accept-Language, whose content codings, charsets and language tags
//     (and q parameters) are case-insensitive by definition (RFC 9110
//     8.4.1, 12.5.2, 12.5.4); no other field is case-folded, and members are
//     never reordered (the cautious side of 4.1's "normalizing ... in a way
//     that is known to have identical semantics");
//   - CR, LF and NUL become SP (RFC 9110 5.5).
//
// values nil or empty (the field is absent) gives AbsentValue.
func NormalizeValue(name string, values []string) string {
	if len(values) == 0 {
		return AbsentValue
	}
	fold := false
	switch textproto.CanonicalMIMEHeaderKey(name) {
	case "Accept-Encoding", "Accept-Charset", "Accept-Language":
		fold = true
	}
	if len(values) == 1 && isNormal(values[0], fold) {
		return values[0] // the common case, without building a copy
	}
	var b strings.Builder
	for _, line := range values {
		if strings.ContainsAny(line, "\r\n\x00") {
			// Replaced before splitting, so that the SP they become is
			// trimmed like any other whitespace.
			bs := []byte(line)
			for i, c := range bs {
				if c == '\r' || c == '\n' || c == 0 {
					bs[i] = ' '
				}
			}
			line = string(bs)
		}
		for line != "" {
			var m string
			if m, line = nextMember(line); m == "" {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			for i := 0; i < len(m); i++ {
				c := m[i]
				if fold {
					c = lower(c)
				}
				b.WriteByte(c)
			}
		}
	}
	return b.String()
}

// VaryKey returns the secondary cache key of a request for a response
// whose Vary nominates names (as ParseVary returns them): each name with
// the request's normalized value (NormalizeValue), one per line. Two
// requests have the same key exactly when every nominated field matches
// (4.1). With no names the key is "".
func VaryKey(names []string, req http.Header) string {
	if len(names) == 0 {
		return ""
	}
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(':')
		b.WriteString(NormalizeValue(n, req.Values(n)))
		b.WriteByte('\n')
	}
	return b.String()
}

// isNormal reports whether NormalizeValue would return v unchanged: no
// whitespace or control bytes, no empty list members, and no upper case
// where fold.
func isNormal(v string, fold bool) bool {
	if v == "" || v[0] == ',' || v[len(v)-1] == ',' {
		return false
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c <= ' ' || c == 0x7f:
			return false
		case c == ',' && v[i+1] == ',':
			return false
		case fold && 'A' <= c && c <= 'Z':
			return false
		case c == '"':
			return false // quoted strings have their own rules; take the slow path
		}
	}
	return true
}
