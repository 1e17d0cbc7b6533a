package config

import (
	"fmt"
	"strings"
)

// expand replaces environment references in one scalar value:
//
//	${NAME}          the variable's value; an error if it is unset
//	${NAME:-default} the value, or default when unset or empty
//	$$               a literal $
//
// A "$" before anything else is kept literally, except "$NAME", which is an
// error because it looks like a reference that was meant to be expanded.
// Defaults are taken literally (no nested references), and expanded text is
// not expanded again. A whole value that is a password hash in modular
// crypt form ($2y$10$..., $argon2id$...) is taken literally: its $ signs
// are the format's, never references.
func expand(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "$") || isPasswordHash(s) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			i++
			continue
		}
		switch next := s[i+1]; {
		case next == '$':
			b.WriteByte('$')
			i += 2
		case next == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", fmt.Errorf(`unterminated "${" in %q; close it with "}", or write $$ for a literal $`, s)
			}
			val, err := expandRef(s[i+2:i+2+end], lookup)
			if err != nil {
				return "", err
			}
			b.WriteString(val)
			i += 2 + end + 1
		case isNameStart(next):
			n := i + 2
			for n < len(s) && isNameByte(s[n]) {
				n++
			}
			name := s[i+1 : n]
			return "", fmt.Errorf("$%s is not expanded; write ${%s}, or $$ for a literal $", name, name)
		default:
			b.WriteByte('$')
			i++
		}
	}
	return b.String(), nil
}

// expandRef resolves the inside of "${...}".
func expandRef(ref string, lookup func(string) (string, bool)) (string, error) {
	name, def, hasDef := strings.Cut(ref, ":-")
	if !isVarName(name) {
		return "", fmt.Errorf("invalid variable name %q in ${%s}; names are letters, digits and _", name, ref)
	}
	val, ok := lookup(name)
	switch {
	case ok && (val != "" || !hasDef):
		return val, nil
	case hasDef:
		return def, nil
	}
	return "", fmt.Errorf("environment variable %s is not set; set it, or give a default with ${%s:-value}", name, name)
}

func isVarName(s string) bool {
	if s == "" || !isNameStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}

func isNameStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isNameByte(c byte) bool { return isNameStart(c) || '0' <= c && c <= '9' }

// isPasswordHash reports whether s is written as a bcrypt or argon2id
// hash.
func isPasswordHash(s string) bool {
	for _, p := range []string{"$2a$", "$2b$", "$2y$", "$argon2id$"} {
		if strings.HasPrefix(s, p) && !strings.ContainsAny(s, "{} ") {
			return true
		}
	}
	return false
}
