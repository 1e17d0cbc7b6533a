package policy

import (
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// Directives is a parsed Cache-Control field (RFC 9111 section 5.2), of a
// request or of a response. The zero value is not "no directives": use
// ParseCacheControl, which sets every delta-seconds field to -1 when its
// directive is absent.
//
// Parsing rules, all of them conservative where the RFC leaves a choice:
//
//   - Directive names are compared case-insensitively; arguments may use
//     the token or the quoted-string form (5.2: "recipients ought to accept
//     both forms"); unknown directives are ignored (5.2.3).
//   - A delta-seconds value larger than 2^31 is clamped to 2^31 (1.2.2).
//   - max-age and s-maxage are freshness information (4.2.1): a malformed
//     value (max-age=abc, max-age=-1, max-age="") or a duplicate with a
//     different value sets Invalid, and the response is then stale. The
//     first valid value is kept in the field.
//   - A malformed s-maxage also sets ProxyRevalidate: the directive was
//     there, and s-maxage carries proxy-revalidate's semantics (5.2.2.10).
//   - stale-while-revalidate, stale-if-error, max-stale and min-fresh with a
//     malformed value are ignored (treated as absent: no stale use is
//     granted by a broken value); duplicates keep the most restrictive value
//     (4.2.1: "the most restrictive directive should be honored"): the
//     smallest stale-while-revalidate, stale-if-error and max-stale, the
//     largest min-fresh. A max-stale with a value beats one without.
//   - A directive defined without an argument that carries one anyway
//     (no-store=1, immutable=x) counts as present; RFC 8246 section 2 says
//     so for immutable and it is the cautious reading for the others.
//   - no-cache and private: NoCache and Private are set only by the
//     unqualified form (5.2.2.4, 5.2.2.7). The qualified form
//     (no-cache="Set-Cookie") only lists fields in NoCacheFields or
//     PrivateFields, because its meaning is different: the response may be
//     reused (no-cache) or stored (private) without those fields. A
//     qualified form whose argument is empty or not a list of field names
//     is treated as the unqualified form.
type Directives struct {
	// Delta-seconds directives, in seconds: -1 when absent.
	MaxAge, SMaxAge, StaleWhileRevalidate, StaleIfError, MinFresh int64
	// MaxStale is max-stale's value, -1 when absent or given without a
	// value; MaxStaleAny is set for "max-stale" without a value (any
	// staleness is acceptable, 5.2.1.2).
	MaxStale    int64
	MaxStaleAny bool

	NoStore, NoCache, Private, Public, MustRevalidate, ProxyRevalidate bool
	MustUnderstand, Immutable, NoTransform, OnlyIfCached               bool

	// NoCacheFields and PrivateFields are the field names of the
	// qualified forms, canonical (textproto.CanonicalMIMEHeaderKey) and
	// without duplicates, in the order first seen. Nil when absent.
	NoCacheFields, PrivateFields []string

	// Invalid reports a malformed or conflicting max-age or s-maxage: the
	// freshness information cannot be trusted and a response is stale
	// (4.2.1); a request's max-age is then unsatisfiable and Evaluate
	// asks for validation.
	Invalid bool
}

// noDirectives is Directives with every delta-seconds field marked absent.
var noDirectives = Directives{MaxAge: -1, SMaxAge: -1, StaleWhileRevalidate: -1, StaleIfError: -1, MinFresh: -1, MaxStale: -1}

// ParseCacheControl parses every Cache-Control field line of h, as one
// comma-separated list (RFC 9110 5.3). It does not allocate unless a
// qualified no-cache or private lists field names or a quoted argument
// holds a backslash.
func ParseCacheControl(h http.Header) Directives {
	d := noDirectives
	for _, line := range h["Cache-Control"] {
		parseDirectives(&d, line)
	}
	return d
}

// RequestDirectives parses a request's Cache-Control. Without any
// Cache-Control field, "Pragma: no-cache" counts as "Cache-Control:
// no-cache": RFC 7234 section 5.4 required this; RFC 9111 section 5.4 only
// deprecates Pragma, and honouring it is the cautious choice for the
// HTTP/1.0 clients that still send it.
func RequestDirectives(h http.Header) Directives {
	d := ParseCacheControl(h)
	if len(h["Cache-Control"]) == 0 && hasListToken(h["Pragma"], "no-cache") {
		d.NoCache = true
	}
	return d
}

// parseDirectives adds the directives of one field line to d.
func parseDirectives(d *Directives, s string) {
	for {
		for len(s) > 0 && (isOWS(s[0]) || s[0] == ',') {
			s = s[1:]
		}
		if s == "" {
			return
		}
		n := 0
		for n < len(s) && isTchar(s[n]) {
			n++
		}
		name := s[:n]
		s = trimLeftOWS(s[n:])
		var arg string
		hasArg, ok := false, true
		if s != "" && s[0] == '=' {
			hasArg = true
			s = trimLeftOWS(s[1:])
			if s != "" && s[0] == '"' {
				if q := scanQuoted(s); q < 0 {
					arg, s, ok = "", "", false
				} else {
					arg, s = s[:q], s[q:]
				}
			} else {
				k := 0
				for k < len(s) && isTchar(s[k]) {
					k++
				}
				arg, s, ok = s[:k], s[k:], k > 0
			}
			s = trimLeftOWS(s)
		}
		if s != "" && s[0] != ',' {
			// Garbage after the directive: the directive is malformed;
			// resume after the next comma outside a quoted string.
			ok = false
			_, s = nextMember(s)
		}
		if name != "" {
			d.apply(name, arg, hasArg, ok)
		}
	}
}

func trimLeftOWS(s string) string {
	for len(s) > 0 && isOWS(s[0]) {
		s = s[1:]
	}
	return s
}

// apply records one directive. arg is the raw argument (quoted-string
// still quoted); ok is false when the directive was malformed.
func (d *Directives) apply(name, arg string, hasArg, ok bool) {
	// Dispatch on the length first: most names are then compared with one
	// candidate only.
	switch len(name) {
	case 6:
		if equalFold(name, "public") {
			d.Public = true
		}
	case 7:
		switch {
		case equalFold(name, "max-age"):
			d.setFreshness(&d.MaxAge, arg, hasArg && ok)
		case equalFold(name, "private"):
			d.PrivateFields, d.Private = qualified(d.PrivateFields, d.Private, arg, hasArg, ok)
		}
	case 8:
		switch {
		case equalFold(name, "no-store"):
			d.NoStore = true
		case equalFold(name, "no-cache"):
			d.NoCacheFields, d.NoCache = qualified(d.NoCacheFields, d.NoCache, arg, hasArg, ok)
		case equalFold(name, "s-maxage"):
			if !d.setFreshness(&d.SMaxAge, arg, hasArg && ok) {
				d.ProxyRevalidate = true
			}
		}
	case 9:
		switch {
		case equalFold(name, "immutable"):
			d.Immutable = true
		case equalFold(name, "min-fresh"):
			if v, good := deltaArg(arg, hasArg && ok); good {
				d.MinFresh = max(d.MinFresh, v)
			}
		case equalFold(name, "max-stale"):
			switch v, good := deltaArg(arg, hasArg && ok); {
			case good:
				d.MaxStale = minPresent(d.MaxStale, v)
				d.MaxStaleAny = false
			case !hasArg && d.MaxStale < 0:
				d.MaxStaleAny = true
			}
		}
	case 12:
		if equalFold(name, "no-transform") {
			d.NoTransform = true
		}
	case 14:
		switch {
		case equalFold(name, "stale-if-error"):
			if v, good := deltaArg(arg, hasArg && ok); good {
				d.StaleIfError = minPresent(d.StaleIfError, v)
			}
		case equalFold(name, "only-if-cached"):
			d.OnlyIfCached = true
		}
	case 15:
		switch {
		case equalFold(name, "must-revalidate"):
			d.MustRevalidate = true
		case equalFold(name, "must-understand"):
			d.MustUnderstand = true
		}
	case 16:
		if equalFold(name, "proxy-revalidate") {
			d.ProxyRevalidate = true
		}
	case 22:
		if equalFold(name, "stale-while-revalidate") {
			if v, good := deltaArg(arg, hasArg && ok); good {
				d.StaleWhileRevalidate = minPresent(d.StaleWhileRevalidate, v)
			}
		}
	}
}

// setFreshness records a max-age or s-maxage value in *dst and reports
// whether it was valid and consistent with an earlier occurrence.
func (d *Directives) setFreshness(dst *int64, arg string, ok bool) bool {
	v, good := deltaArg(arg, ok)
	switch {
	case !good:
		d.Invalid = true
		return false
	case *dst < 0:
		*dst = v
	case *dst != v:
		d.Invalid = true
	}
	return true
}

// deltaArg parses a delta-seconds argument in token or quoted form.
func deltaArg(arg string, ok bool) (int64, bool) {
	if !ok {
		return 0, false
	}
	if arg != "" && arg[0] == '"' {
		var good bool
		if arg, good = unquote(arg); !good {
			return 0, false
		}
	}
	return parseDelta(arg)
}

// minPresent is min for values where -1 means absent.
func minPresent(cur, v int64) int64 {
	if cur < 0 {
		return v
	}
	return min(cur, v)
}

// qualified handles the argument of no-cache or private: a list of field
// names adds to fields; no argument, or one that is empty or malformed,
// sets the unqualified flag.
func qualified(fields []string, flag bool, arg string, hasArg, ok bool) ([]string, bool) {
	if !hasArg || !ok {
		return fields, true
	}
	list := arg
	if list != "" && list[0] == '"' {
		var good bool
		if list, good = unquote(list); !good {
			return fields, true
		}
	}
	// Validate the whole list before adding any of it.
	n := 0
	for rest := list; rest != ""; {
		var m string
		m, rest = nextMember(rest)
		if m == "" {
			continue
		}
		if !isToken(m) {
			return fields, true
		}
		n++
	}
	if n == 0 {
		return fields, true
	}
	for rest := list; rest != ""; {
		var m string
		if m, rest = nextMember(rest); m == "" {
			continue
		}
		if c := textproto.CanonicalMIMEHeaderKey(m); !containsString(fields, c) {
			fields = append(fields, c)
		}
	}
	return fields, flag
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// String formats d as a Cache-Control field value in a fixed order, the
// arguments in the form RFC 9111 has senders generate: delta-seconds as
// tokens, field lists as quoted strings. Invalid is not represented: the
// first valid max-age or s-maxage is written. Parsing the result gives d
// back, Invalid aside.
func (d Directives) String() string {
	var b strings.Builder
	add := func(s string) {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s)
	}
	addDelta := func(name string, v int64) {
		if v >= 0 {
			add(name)
			b.WriteByte('=')
			b.WriteString(strconv.FormatInt(v, 10))
		}
	}
	addFields := func(name string, flag bool, fields []string) {
		if flag {
			add(name)
		}
		if len(fields) > 0 {
			add(name)
			b.WriteString(`="`)
			b.WriteString(strings.Join(fields, ", "))
			b.WriteByte('"')
		}
	}
	for _, f := range []struct {
		name string
		on   bool
	}{
		{"public", d.Public}, {"no-store", d.NoStore}, {"no-transform", d.NoTransform},
		{"must-revalidate", d.MustRevalidate}, {"proxy-revalidate", d.ProxyRevalidate},
		{"must-understand", d.MustUnderstand}, {"immutable", d.Immutable}, {"only-if-cached", d.OnlyIfCached},
	} {
		if f.on {
			add(f.name)
		}
	}
	addFields("private", d.Private, d.PrivateFields)
	addFields("no-cache", d.NoCache, d.NoCacheFields)
	addDelta("max-age", d.MaxAge)
	addDelta("s-maxage", d.SMaxAge)
	addDelta("stale-while-revalidate", d.StaleWhileRevalidate)
	addDelta("stale-if-error", d.StaleIfError)
	addDelta("min-fresh", d.MinFresh)
	if d.MaxStaleAny && d.MaxStale < 0 {
		add("max-stale")
	}
	addDelta("max-stale", d.MaxStale)
	return b.String()
}
