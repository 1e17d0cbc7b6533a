package policy

import (
	"net/http"
	"net/textproto"
	"strings"
	"time"
)

// ValidatorsFor returns the preconditions of a request the cache sends to
// validate the stored responses stored (RFC 9111 4.3.1), each "" when
// there is none to send:
//
//   - ifNoneMatch lists the entity-tag of every stored response that has
//     one, without duplicates (4.3.1: the cache "MUST send the relevant
//     entity tags");
//   - ifModifiedSince is the Last-Modified of the stored response when
//     exactly one is validated (4.3.1 SHOULD; with several, no single date
//     describes them). When that one response has neither Last-Modified
//     nor ETag, its Date is used instead: RFC 9110 13.1.3 describes caches
//     doing so, and RFC 9111 4.3.4 handles the validator-less 304 that
//     results. Dates are sent as received, as origins may compare them
//     exactly (13.1.3).
//
// A cache validating for a client's request merges ifNoneMatch with the
// client's own If-None-Match (4.3.2 MAY); that is the middleware's.
func ValidatorsFor(stored []http.Header) (ifNoneMatch, ifModifiedSince string) {
	var b strings.Builder
	var seen []string
	for _, h := range stored {
		tag, ok := etagOf(h)
		if !ok || containsString(seen, tag) {
			continue
		}
		seen = append(seen, tag)
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(tag)
	}
	if len(stored) == 1 {
		h := stored[0]
		if _, ok := headerDate(h, "Last-Modified", time.Time{}); ok {
			ifModifiedSince = trimOWS(h["Last-Modified"][0])
		} else if _, hasTag := etagOf(h); !hasTag {
			if _, ok := headerDate(h, "Date", time.Time{}); ok {
				ifModifiedSince = trimOWS(h["Date"][0])
			}
		}
	}
	return b.String(), ifModifiedSince
}

// SelectFor304 returns which of the stored responses a 304 (Not
// Modified) with header resp freshens (RFC 9111 4.3.4), as indexes into
// stored. stored is the "initial set": the responses that could have been
// chosen for the request, fresh or not (the middleware's selection by URI,
// method and Vary). The first rule that applies decides:
//
//  1. The 304 has a strong validator, a strong ETag: every stored
//     response whose ETag matches it under the strong comparison; none
//     when none matches (4.3.4: the cache "MUST NOT use the new response
//     to update any stored responses").
//  2. The 304 has weak validators only (a weak ETag, Last-Modified): the
//     most recent (by Date, MostRecent) of the stored responses whose
//     validators match every one the 304 carries (weak comparison for the
//     ETag, equal dates for Last-Modified). A Last-Modified is treated as
//     weak (RFC 9110 8.8.2.2: "implicitly weak unless it is possible to
//     deduce that it is strong"), which updates at most one response.
//  3. The 304 has no validator: the only stored response, when there is
//     exactly one and it has no validator either.
//
// Otherwise nothing is freshened, and the result is nil.
func SelectFor304(resp http.Header, stored []http.Header) []int {
	tag, hasTag := etagOf(resp)
	lm, hasLM := headerDate(resp, "Last-Modified", time.Time{})
	if hasTag && !isWeakTag(tag) {
		var out []int
		for i, h := range stored {
			if t, ok := etagOf(h); ok && StrongMatch(tag, t) {
				out = append(out, i)
			}
		}
		return out
	}
	if hasTag || hasLM {
		var candidates []http.Header
		var index []int
		for i, h := range stored {
			if hasTag {
				if t, ok := etagOf(h); !ok || !WeakMatch(tag, t) {
					continue
				}
			}
			if hasLM {
				if d, ok := headerDate(h, "Last-Modified", time.Time{}); !ok || !d.Equal(lm) {
					continue
				}
			}
			candidates = append(candidates, h)
			index = append(index, i)
		}
		if i := MostRecent(candidates); i >= 0 {
			return []int{index[i]}
		}
		return nil
	}
	if len(stored) == 1 && !hasValidator(stored[0]) {
		return []int{0}
	}
	return nil
}

func isWeakTag(tag string) bool {
	_, weak, ok := entityTag(tag)
	return ok && weak
}

func hasValidator(h http.Header) bool {
	return len(h["Etag"]) > 0 || len(h["Last-Modified"]) > 0
}

// MostRecent returns the index of the most recent of the stored
// responses, by Date (RFC 9111 4: "the cache MUST use the most recent
// one"; 4.1), or -1 when stored is empty. A response without a valid Date
// counts as the oldest; of equals, the first wins.
func MostRecent(stored []http.Header) int {
	best := -1
	var bestDate time.Time
	for i, h := range stored {
		d, _ := headerDate(h, "Date", time.Time{})
		if best < 0 || d.After(bestDate) {
			best, bestDate = i, d
		}
	}
	return best
}

// Freshen updates the stored response header stored, in place, with the
// header of a 304 (Not Modified) or of a 200 answering a HEAD (RFC 9111
// 3.2): every field of update replaces the stored field of the same name,
// except
//
//   - the fields a cache does not store (3.1; StoredHeader): hop-by-hop
//     fields, those Connection names, the proxy-authentication fields, and
//     the fields a qualified private names (in update's Cache-Control when
//     it has one, else in the stored one);
//   - Content-Length (3.2), since the stored body is what it is;
//   - Content-Range, which 3.2 lets an implementation omit ("automatically
//     processed and removed").
//
// Stored fields the update does not carry are kept. Values are copied:
// stored shares no slice with update afterwards. The caller owns stored
// (concurrent readers of a shared stored header need a copy first) and
// records the validation exchange's request and response times for
// CurrentAge.
func Freshen(stored, update http.Header) {
	d := ParseCacheControl(update)
	if len(update["Cache-Control"]) == 0 {
		d = ParseCacheControl(stored)
	}
	for k, v := range update {
		name := textproto.CanonicalMIMEHeaderKey(k)
		if name == "Content-Length" || name == "Content-Range" || excludedFromStorage(name, update, d) {
			continue
		}
		delete(stored, name)
		stored[name] = append([]string(nil), v...)
	}
}

// HeadInvalidates reports whether a 200 answering the cache's HEAD
// request, with header head, shows that the stored GET response with
// header stored is no longer current (RFC 9111 4.3.5), so that it is to be
// considered stale; when it returns false the stored response is to be
// freshened with Freshen. It returns true when
//
//   - ETag or Last-Modified differ (compared as received), or either
//     response has one the other lacks: 4.3.5 asks for "matching values
//     for any received validator fields", and a validator that appeared or
//     vanished is read as a change;
//   - the HEAD response has a Content-Length that differs from the stored
//     one or that the stored response lacks.
func HeadInvalidates(stored, head http.Header) bool {
	for _, f := range [...]string{"Etag", "Last-Modified"} {
		if !sameField(stored[f], head[f]) {
			return true
		}
	}
	if cl := head["Content-Length"]; len(cl) > 0 && !sameField(stored["Content-Length"], cl) {
		return true
	}
	return false
}

// sameField reports whether two fields have the same lines, whitespace at
// their ends aside.
func sameField(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if trimOWS(a[i]) != trimOWS(b[i]) {
			return false
		}
	}
	return true
}
