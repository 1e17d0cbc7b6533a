// Package hop knows the header fields that are meaningful for one
// connection only (RFC 9110 section 7.6.1): a proxy never passes them
// on, in either direction, nor those a Connection field names.
package hop

import "strings"

// Is reports whether the canonical field name k is hop-by-hop. It runs
// for every field of every message in both directions: a switch, which
// the compiler turns into a length and byte test, not a loop over fields
// (TestIs holds the two to each other).
func Is(k string) bool {
	switch k {
	case "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// Named reports whether the Connection field's values conn name k
// (case-insensitively), making it hop-by-hop for this message.
func Named(conn []string, k string) bool {
	for _, v := range conn {
		for v != "" {
			var tok string
			tok, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(tok), k) {
				return true
			}
		}
	}
	return false
}
