// Package mediatype parses the media-type patterns a config lists
// ("text/*", "application/*+json") and matches Content-Type values
// against them. It is shared by the compress middleware, which matches,
// and config, which must refuse exactly what the middleware would.
package mediatype

import (
	"fmt"
	"strings"
)

// Pattern is a type ("text", or "*" for any) and a subtype that is exact
// ("json"), any ("*"), or any with a structured suffix ("*+json", held as
// suffix "+json").
type Pattern struct {
	typ, sub, suffix string
	anySub           bool
}

// Parse parses "type/subtype", "type/*", "type/*+suffix", "*/*+suffix"
// or "*/*", lower-cased. Parameters are not allowed: matching ignores
// them.
func Parse(s string) (Pattern, error) {
	typ, sub, ok := strings.Cut(strings.ToLower(s), "/")
	if !ok || !isToken(typ) || !isToken(sub) || strings.Contains(sub, "/") {
		return Pattern{}, fmt.Errorf("%q is not a media type; write type/subtype, type/* or type/*+suffix, e.g. application/json, text/* or application/*+json", s)
	}
	p := Pattern{typ: typ}
	switch {
	case sub == "*":
		p.anySub = true
	case strings.HasPrefix(sub, "*+") && len(sub) > 2 && !strings.Contains(sub[2:], "*"):
		p.anySub, p.suffix = true, sub[1:]
	case strings.Contains(sub, "*"):
		return Pattern{}, fmt.Errorf("%q: a subtype pattern is * or *+suffix (text/*, application/*+json), not a partial name", s)
	default:
		p.sub = sub
	}
	if typ == "*" && !p.anySub {
		return Pattern{}, fmt.Errorf("%q: a type of * needs a subtype of * or *+suffix (*/*+json)", s)
	}
	return p, nil
}

// Matches reports whether the media type typ/sub (any case) is one p
// names.
func (p *Pattern) Matches(typ, sub string) bool {
	if p.typ != "*" && !strings.EqualFold(typ, p.typ) {
		return false
	}
	if !p.anySub {
		return strings.EqualFold(sub, p.sub)
	}
	n := len(sub) - len(p.suffix)
	return n >= 0 && strings.EqualFold(sub[n:], p.suffix) && (p.suffix == "" || n > 0)
}

// Split returns the type and subtype of a Content-Type value, without
// its parameters and surrounding whitespace.
func Split(ct string) (typ, sub string, ok bool) {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	typ, sub, ok = strings.Cut(strings.Trim(ct, " \t"), "/")
	return typ, sub, ok && typ != "" && sub != ""
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
