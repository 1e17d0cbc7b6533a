package compress

import (
	"fmt"
	"strings"
)

// pattern is one entry of Options.Types: a type ("text", or "*" for any)
// and a subtype that is exact ("json"), any ("*"), or any with a
// structured suffix ("*+json", held as suffix "+json").
type pattern struct {
	typ, sub, suffix string
	anySub           bool
}

// parsePattern parses "type/subtype", "type/*", "type/*+suffix" or "*/*",
// lower-cased. Parameters are not allowed: they are ignored in matching.
func parsePattern(s string) (pattern, error) {
	typ, sub, ok := strings.Cut(strings.ToLower(s), "/")
	if !ok || !isToken(typ) || !isToken(sub) || strings.Contains(sub, "/") {
		return pattern{}, fmt.Errorf("media type %q is not type/subtype", s)
	}
	p := pattern{typ: typ}
	switch {
	case sub == "*":
		p.anySub = true
	case strings.HasPrefix(sub, "*+") && len(sub) > 2 && !strings.Contains(sub[2:], "*"):
		p.anySub, p.suffix = true, sub[1:]
	case strings.Contains(sub, "*"):
		return pattern{}, fmt.Errorf("media type %q: a subtype pattern is * or *+suffix", s)
	default:
		p.sub = sub
	}
	if typ == "*" && !p.anySub {
		return pattern{}, fmt.Errorf("media type %q: */ needs a subtype pattern", s)
	}
	return p, nil
}

// CheckType reports whether s is a valid entry for Options.Types:
// "type/subtype" ("application/json"), "type/*" ("text/*"),
// "type/*+suffix" ("application/*+json"), "*/*+suffix" or "*/*".
func CheckType(s string) error {
	_, err := parsePattern(s)
	return err
}

// matches reports whether the media type typ/sub (any case) is one p
// names.
func (p *pattern) matches(typ, sub string) bool {
	if p.typ != "*" && !strings.EqualFold(typ, p.typ) {
		return false
	}
	if !p.anySub {
		return strings.EqualFold(sub, p.sub)
	}
	n := len(sub) - len(p.suffix)
	return n >= 0 && strings.EqualFold(sub[n:], p.suffix) && (p.suffix == "" || n > 0)
}

// types is the compiled Options.Types, scanned in order: the lists are
// short, and a scan of a few EqualFolds is cheaper than building a
// lower-cased key for a map.
type types []pattern

// match reports whether the Content-Type value ct names a compressible
// media type; parameters (charset) and surrounding whitespace are
// ignored, case is not significant.
func (ts types) match(ct string) bool {
	typ, sub, ok := splitMediaType(ct)
	if !ok {
		return false
	}
	for i := range ts {
		if ts[i].matches(typ, sub) {
			return true
		}
	}
	return false
}

// splitMediaType returns the type and subtype of a Content-Type value.
func splitMediaType(ct string) (typ, sub string, ok bool) {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	typ, sub, ok = strings.Cut(trimOWS(ct), "/")
	return typ, sub, ok && typ != "" && sub != ""
}

// isEventStream reports whether ct is text/event-stream, whose events
// must reach the client one by one.
func isEventStream(ct string) bool {
	typ, sub, ok := splitMediaType(ct)
	return ok && strings.EqualFold(typ, "text") && strings.EqualFold(sub, "event-stream")
}
