package policy

import (
	"strconv"
	"strings"
	"time"
)

// Values of the Cache-Status fwd parameter (RFC 9211 2.2), from the most
// specific to the least.
const (
	FwdBypass   = "bypass"    // the cache was configured not to handle the request
	FwdMethod   = "method"    // the method must be forwarded
	FwdURIMiss  = "uri-miss"  // nothing stored for the URI
	FwdVaryMiss = "vary-miss" // stored responses, none selected by Vary
	FwdMiss     = "miss"      // no usable response, uri-miss and vary-miss not told apart
	FwdRequest  = "request"   // a fresh response, but the request's directives refused it
	FwdStale    = "stale"     // the selected response was stale
	FwdPartial  = "partial"   // the selected response was partial
)

// Collapse is the collapsed parameter of Cache-Status (RFC 9211 2.6).
type Collapse int8

const (
	NotCollapsed    Collapse = iota // not collapsed: the parameter is left out
	CollapsedReused                 // collapsed, and the response was reused: "collapsed"
	CollapsedFailed                 // collapsed, but a new request had to be made: "collapsed=?0"
)

// CacheStatus describes how the cache handled one request, for one
// Cache-Status list member (RFC 9211 2). The zero value formats as the
// cache name alone.
type CacheStatus struct {
	// Hit: the response came from the cache without going forward (2.1).
	// Hit and Fwd are exclusive; when both are set, only hit is written.
	Hit bool
	// Fwd is why the request went forward, one of the Fwd constants
	// (2.2); "" when it did not. A value that is not a token is left out.
	Fwd string
	// FwdStatus is the status the next hop answered with (2.3), written
	// only with Fwd and only when it is a status code (100-999); 0 leaves
	// it out.
	FwdStatus int
	// TTL is the remaining freshness lifetime, negative when stale (2.4),
	// written in whole seconds (rounded down) when HasTTL.
	TTL    time.Duration
	HasTTL bool
	// Stored: the forwarded response was stored (2.5); written only with
	// Fwd.
	Stored bool
	// Collapsed reports request collapsing (2.6); written only with Fwd.
	Collapsed Collapse
	// Key is the cache key (2.7); "" leaves it out. RFC 9211 6 warns that
	// exposing it helps cache-poisoning attacks: send it only to trusted
	// clients.
	Key string
	// Detail is implementation-specific information (2.8), such as the
	// reason Storable gave; "" leaves it out.
	Detail string
}

// FormatCacheStatus formats one Cache-Status list member (RFC 9211 2):
// the cache's name, a Token when it is one and a String otherwise (2:
// "MUST be a String or Token"), then the parameters of p in the order of
// RFC 9211 section 2, serialized as RFC 8941 section 4.1 does: booleans
// true as a bare key, false as "=?0", integers in decimal, fwd as a Token, key as a String, detail as a
// Token when it is one and a String otherwise. A String escapes "\" and
// DQUOTE; characters RFC 8941 does not allow in one (outside %x20-7E) are
// written as "?". The middleware appends the member to any Cache-Status
// already present (2: caches "SHOULD preserve the existing field value"),
// as a new field line or after ", ".
func FormatCacheStatus(cacheName string, p CacheStatus) string {
	var b strings.Builder
	writeTokenOrString(&b, cacheName)
	fwd := !p.Hit && p.Fwd != "" && isSFToken(p.Fwd)
	if p.Hit {
		b.WriteString(";hit")
	}
	if fwd {
		b.WriteString(";fwd=")
		b.WriteString(p.Fwd)
		if 100 <= p.FwdStatus && p.FwdStatus <= 999 {
			b.WriteString(";fwd-status=")
			b.WriteString(strconv.Itoa(p.FwdStatus))
		}
	}
	if p.HasTTL {
		secs := int64(p.TTL / time.Second)
		if p.TTL < 0 && p.TTL%time.Second != 0 {
			secs-- // round down: a response stale by 0.5 s is not ttl=0
		}
		b.WriteString(";ttl=")
		b.WriteString(strconv.FormatInt(secs, 10)) // at most 10 digits: within RFC 8941's 15
	}
	if fwd {
		if p.Stored {
			b.WriteString(";stored")
		}
		switch p.Collapsed {
		case CollapsedReused:
			b.WriteString(";collapsed")
		case CollapsedFailed:
			b.WriteString(";collapsed=?0")
		}
	}
	if p.Key != "" {
		b.WriteString(";key=")
		writeSFString(&b, p.Key)
	}
	if p.Detail != "" {
		b.WriteString(";detail=")
		writeTokenOrString(&b, p.Detail)
	}
	return b.String()
}

// isSFToken reports whether s is an RFC 8941 Token (3.3.4):
// ( ALPHA / "*" ) *( tchar / ":" / "/" ).
func isSFToken(s string) bool {
	if s == "" {
		return false
	}
	if c := s[0]; !('a' <= lower(c) && lower(c) <= 'z') && c != '*' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isTchar(c) && c != ':' && c != '/' {
			return false
		}
	}
	return true
}

func writeTokenOrString(b *strings.Builder, s string) {
	if isSFToken(s) {
		b.WriteString(s)
		return
	}
	writeSFString(b, s)
}

// writeSFString writes s as an RFC 8941 String (4.1.6).
func writeSFString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
