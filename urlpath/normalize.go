package urlpath

import (
	"strings"
	"unsafe"
)

// Normalize returns the normal form of escaped, a request path as it appears
// on the request line (still escaped, without the query):
//
//   - escapes of unreserved characters are decoded ("/%61pi" -> "/api");
//     other escapes are kept with upper-case hex ("%2f" -> "%2F", "%c3%a9"
//     -> "%C3%A9");
//   - "." and ".." segments are resolved, including those spelled with
//     escapes ("%2e%2e"), and ".." never climbs above the root
//     ("/../a" -> "/a");
//   - empty segments are removed ("//a" -> "/a");
//   - a trailing slash is kept, and a final "." or ".." leaves one
//     ("/a/b/.." -> "/a/");
//   - "%2F" is neither decoded nor a separator.
//
// ok is false, and norm empty, when escaped does not start with "/", has an
// escape that is not '%' and two hex digits, has "%00", or has a raw control
// byte. Normalize is idempotent.
//
// When escaped is already normal (the common case) Normalize returns it
// without allocating; otherwise it allocates the result once.
func Normalize(escaped string) (norm string, ok bool) {
	if isNormal(escaped) {
		return escaped, true
	}
	if escaped == "" || escaped[0] != '/' {
		return "", false
	}
	return normalizeSlow(escaped)
}

// isNormal reports whether p is in the form Normalize returns, that is
// whether Normalize(p) would return p itself. It does not allocate.
func isNormal(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case isControl(c):
			return false
		case c == '%':
			if !isNormalEscape(p, i) {
				return false
			}
			i += 2
		case c == '/':
			if isRemovableSegment(p[i+1:]) {
				return false
			}
		}
	}
	return true
}

// isNormalEscape reports whether the escape at p[i] is one Normalize keeps
// unchanged.
func isNormalEscape(p string, i int) bool {
	v, ok := unescape(p, i)
	return ok && isUpperHex(p[i+1]) && isUpperHex(p[i+2]) && v != 0 && !isUnreserved(v)
}

// isRemovableSegment reports whether rest, the text after a '/', starts with
// a segment Normalize removes: "", "." or "..", ended by '/' or by the end
// of the path, except the final empty segment, which is the kept trailing
// slash.
func isRemovableSegment(rest string) bool {
	if rest == "" {
		return false
	}
	dots := 0
	for dots < 2 && dots < len(rest) && rest[dots] == '.' {
		dots++
	}
	return dots == len(rest) || rest[dots] == '/'
}

// normalizeSlow builds the normal form of p, which starts with "/", in one
// buffer that never outgrows len(p): decoding, collapsing and resolving
// only shrink a path.
func normalizeSlow(p string) (string, bool) {
	buf := make([]byte, 1, len(p))
	buf[0] = '/'
	rest := p[1:]
	for {
		seg, tail, more := strings.Cut(rest, "/")
		start := len(buf)
		var ok bool
		if buf, ok = appendSegment(buf, seg); !ok {
			return "", false
		}
		switch string(buf[start:]) {
		case "", ".":
			buf = buf[:start]
		case "..":
			buf = parent(buf[:start])
		default:
			if more {
				buf = append(buf, '/')
			}
		}
		if !more {
			break
		}
		rest = tail
	}
	// buf is never written again, so the string may share it; this is
	// what strings.Builder does, and keeps Normalize to one allocation.
	return unsafe.String(unsafe.SliceData(buf), len(buf)), true
}

// appendSegment appends seg, which has no '/', to buf in normal form: with
// unreserved characters decoded and other escapes in upper case. ok is false
// if seg has a malformed escape, "%00" or a raw control byte.
func appendSegment(buf []byte, seg string) ([]byte, bool) {
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if isControl(c) {
			return buf, false
		}
		if c != '%' {
			buf = append(buf, c)
			continue
		}
		v, ok := unescape(seg, i)
		switch {
		case !ok || v == 0:
			return buf, false
		case isUnreserved(v):
			buf = append(buf, v)
		default:
			buf = append(buf, '%', upperHex[v>>4], upperHex[v&0xf])
		}
		i += 2
	}
	return buf, true
}

// parent drops the last segment of buf, which ends with '/', keeping that
// segment's leading '/'. At the root it returns buf unchanged.
func parent(buf []byte) []byte {
	for i := len(buf) - 2; i >= 0; i-- {
		if buf[i] == '/' {
			return buf[:i+1]
		}
	}
	return buf
}
