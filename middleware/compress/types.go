package compress

import (
	"strings"

	"github.com/gatehouse-proxy/gatehouse/internal/mediatype"
)

// CheckType reports whether s is a valid entry for Options.Types:
// "type/subtype" ("application/json"), "type/*" ("text/*"),
// "type/*+suffix" ("application/*+json"), "*/*+suffix" or "*/*".
func CheckType(s string) error {
	_, err := mediatype.Parse(s)
	return err
}

// types is the compiled Options.Types, scanned in order: the lists are
// short, and a scan of a few EqualFolds is cheaper than building a
// lower-cased key for a map.
type types []mediatype.Pattern

// match reports whether the Content-Type value ct names a compressible
// media type; parameters (charset) and surrounding whitespace are
// ignored, case is not significant.
func (ts types) match(ct string) bool {
	typ, sub, ok := mediatype.Split(ct)
	if !ok {
		return false
	}
	for i := range ts {
		if ts[i].Matches(typ, sub) {
			return true
		}
	}
	return false
}

// isEventStream reports whether ct is text/event-stream, whose events
// must reach the client one by one.
func isEventStream(ct string) bool {
	typ, sub, ok := mediatype.Split(ct)
	return ok && strings.EqualFold(typ, "text") && strings.EqualFold(sub, "event-stream")
}
