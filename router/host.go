package router

import (
	"errors"
	"fmt"
	"strings"
)

// maxHostLen is the longest DNS name, without its trailing dot.
const maxHostLen = 253

// hostname returns the name part of a request's host: without a port,
// without the brackets of an IPv6 literal, and without one trailing dot.
// It returns a substring of host.
func hostname(host string) string {
	if strings.HasPrefix(host, "[") {
		if end := strings.IndexByte(host, ']'); end > 0 {
			return host[1:end]
		}
		return host
	}
	// A single colon starts a port; more mean an unbracketed IPv6 address.
	if i := strings.LastIndexByte(host, ':'); i >= 0 && strings.IndexByte(host[:i], ':') < 0 {
		host = host[:i]
	}
	return strings.TrimSuffix(host, ".")
}

// isLower reports whether s has no upper-case ASCII letter.
func isLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return false
		}
	}
	return true
}

// toLower writes s in lower-case ASCII into dst, which has len(s) bytes,
// and returns dst.
func toLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
	return dst
}

// parsePattern checks one entry of Rule.Hosts and returns the key its group
// is stored under: the lower-case name for an exact host, the lower-case
// suffix with its leading dot for a wildcard (".example.com").
func parsePattern(pattern string) (key string, wildcard bool, err error) {
	name := strings.ToLower(strings.TrimSuffix(pattern, "."))
	if suffix, ok := strings.CutPrefix(name, "*."); ok {
		if err := checkName(suffix); err != nil {
			return "", false, fmt.Errorf("wildcard %q: %w", pattern, err)
		}
		return name[1:], true, nil
	}
	if strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
		name = name[1 : len(name)-1]
	}
	if err := checkName(name); err != nil {
		return "", false, fmt.Errorf("host %q: %w", pattern, err)
	}
	return name, false, nil
}

// checkName rejects host names Match could never produce.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("empty name")
	case len(name) > maxHostLen:
		return fmt.Errorf("longer than %d bytes", maxHostLen)
	case strings.Contains(name, "*"):
		return errors.New(`"*" is allowed only as a whole first label, as in "*.example.com"`)
	case strings.Count(name, ":") == 1:
		return errors.New("a rule host must not have a port")
	case strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, ".."):
		return errors.New("empty label")
	case strings.ContainsAny(name, "[]/?#@ \t"):
		return errors.New("invalid character")
	}
	return nil
}
