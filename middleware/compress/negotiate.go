package compress

import "strings"

// Identity is what Negotiate returns when the response is to be sent
// without a content coding.
const Identity = "identity"

// Negotiate returns the content coding of prefer (a list of coding names,
// most preferred first) that an Accept-Encoding field value asks for, or
// Identity when none of them is acceptable. It follows RFC 9110 section
// 12.5.3:
//
//   - Each element is a coding with an optional weight "q=" of 0 to 1 with
//     up to three decimals; no weight means 1. A weight of 0 refuses the
//     coding. Names are case-insensitive and "x-gzip" is gzip.
//   - "*" gives its weight to every coding (and to identity) not listed
//     on its own.
//   - identity is acceptable unless refused, by "identity;q=0" or by
//     "*;q=0" without an identity element. Listed with a weight higher than
//     every coding's, it wins; unlisted, it loses to every coding the
//     client accepts.
//   - Among codings of equal weight the one earlier in prefer wins, and
//     any coding wins a tie with identity.
//   - An element with a malformed weight (q=2, q=0.0001, q=abc) is
//     ignored, as are parameters other than q. A coding listed twice
//     counts with its higher weight.
//
// An empty value (or no Accept-Encoding field, which the caller passes as
// "") yields Identity: RFC 9110 allows any coding then, but clients that
// send no Accept-Encoding are mostly ones that cannot decode any.
// Identity is also the answer when the client refuses identity too: a
// response must be sent in some form.
//
// Negotiate does not allocate; it is safe for concurrent use.
func Negotiate(acceptEncoding string, prefer []string) string {
	vals := [1]string{acceptEncoding}
	if i := pick(vals[:], prefer); i >= 0 {
		return prefer[i]
	}
	return Identity
}

// pick is Negotiate over the values of every Accept-Encoding field line
// (a request may send several; they form one list). It returns the index
// in prefer of the coding chosen, or -1 for identity.
func pick(vals []string, prefer []string) int {
	if len(prefer) > maxPrefer {
		return pickLong(vals, prefer)
	}
	// One pass over the list records the highest q-value (thousandths)
	// given to each offered coding, identity and "*"; -1 for none.
	var explicit [maxPrefer]int
	for i := range prefer {
		explicit[i] = -1
	}
	star, ident := -1, -1
	for _, v := range vals {
		for v != "" {
			var elem string
			if elem, v = cutElement(v); elem == "" {
				continue
			}
			coding, q := parseElement(elem)
			switch {
			case q < 0:
			case coding == "*":
				star = max(star, q)
			case strings.EqualFold(coding, Identity):
				ident = max(ident, q)
			default:
				for i, name := range prefer {
					if matches(coding, name) {
						explicit[i] = max(explicit[i], q)
					}
				}
			}
		}
	}
	best, bestW := -1, 0
	for i := range prefer {
		if w := weigh(explicit[i], star, false); w > bestW {
			best, bestW = i, w
		}
	}
	if best >= 0 && weigh(ident, star, true) > bestW {
		return -1
	}
	return best
}

// maxPrefer is the longest prefer list pick handles in one pass; it
// offers at most three codings.
const maxPrefer = 8

// weigh is how much the client wants a coding given the q-values of its
// own element and of "*" (-1 for none): twice the q-value in thousandths
// (0 to 2000), so that 1 can stand for identity's implicit acceptance,
// below every explicit q-value but above a refusal.
func weigh(explicit, star int, identity bool) int {
	switch {
	case explicit >= 0:
		return 2 * explicit
	case star >= 0:
		return 2 * star
	case identity:
		return 1
	}
	return 0
}

// pickLong is pick for a prefer list too long for one pass's array: a
// pass per coding.
func pickLong(vals []string, prefer []string) int {
	best, bestW := -1, 0
	for i, name := range prefer {
		if w := weight(vals, name); w > bestW {
			best, bestW = i, w
		}
	}
	if best >= 0 && weight(vals, Identity) > bestW {
		return -1
	}
	return best
}

// weight is weigh for coding name, with a pass over the list.
func weight(vals []string, name string) int {
	explicit, star := -1, -1
	for _, v := range vals {
		for v != "" {
			var elem string
			if elem, v = cutElement(v); elem == "" {
				continue
			}
			switch coding, q := parseElement(elem); {
			case q < 0:
			case coding == "*":
				star = max(star, q)
			case matches(coding, name):
				explicit = max(explicit, q)
			}
		}
	}
	return weigh(explicit, star, name == Identity)
}

// matches reports whether an Accept-Encoding element's coding names the
// coding name.
func matches(coding, name string) bool {
	return strings.EqualFold(coding, name) || name == "gzip" && strings.EqualFold(coding, "x-gzip")
}

// cutElement returns the first element of the comma-separated list s,
// without surrounding whitespace (it may be empty), and the rest of s.
func cutElement(s string) (elem, rest string) {
	elem, rest, _ = strings.Cut(s, ",")
	return trimOWS(elem), rest
}

// parseElement splits `coding *( OWS ";" OWS param )` and returns the
// coding with its q-value in thousandths (1000 when none is given), or
// -1 when the coding is not a token or the weight is malformed.
func parseElement(elem string) (coding string, q int) {
	coding, params, _ := strings.Cut(elem, ";")
	coding = trimOWS(coding)
	if !isToken(coding) {
		return coding, -1
	}
	q = 1000
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, value, _ := strings.Cut(p, "=")
		if strings.EqualFold(trimOWS(name), "q") {
			if q = parseQ(trimOWS(value)); q < 0 {
				return coding, -1
			}
		}
	}
	return coding, q
}

// parseQ parses a qvalue, `( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`,
// into thousandths; -1 when v is not one.
func parseQ(v string) int {
	if v == "" || v[0] != '0' && v[0] != '1' {
		return -1
	}
	q := int(v[0]-'0') * 1000
	if len(v) == 1 {
		return q
	}
	if v[1] != '.' || len(v) > 5 {
		return -1
	}
	for i, scale := 2, 100; i < len(v); i, scale = i+1, scale/10 {
		c := v[i]
		if c < '0' || c > '9' {
			return -1
		}
		q += int(c-'0') * scale
	}
	if q > 1000 {
		return -1
	}
	return q
}

// trimOWS trims optional whitespace (spaces and tabs, RFC 9110 section
// 5.6.3) from both ends of s.
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// isToken reports whether s is a non-empty RFC 9110 token.
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

func isTchar(c byte) bool { return tchars[c] }

// tchars marks the bytes of a token (RFC 9110 section 5.6.2).
var tchars = func() (t [256]bool) {
	for c := range 256 {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", byte(c)) >= 0
	}
	return t
}()
