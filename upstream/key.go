package upstream

import (
	"fmt"
	"net/http"
	"strings"
)

// Stable hashing. Everything here must give the same answer in every
// process and on every platform, so that two Gatehouse instances behind
// one load balancer send a key to the same target: FNV-1a over the bytes,
// finished with the splitmix64 mixer for good avalanche. (hash/maphash is
// randomly seeded per process and so unsuitable.)

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnvString folds s into the FNV-1a state h.
func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// fnvBytes folds b into the FNV-1a state h.
func fnvBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

// mix64 is the splitmix64 finalizer: a bijection that spreads every input
// bit over the whole output.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// hashString is the stable 64-bit hash of s.
func hashString(s string) uint64 { return mix64(fnvString(fnvOffset, s)) }

// targetID derives the opaque sticky-cookie ID of a target from its pool
// and canonical URL, so the cookie does not reveal internal addresses.
func targetID(pool, canonURL string) string {
	h := fnvString(fnvOffset, pool)
	h = fnvString(h^0xff, canonURL) // separator, so ("ab","c") != ("a","bc")
	return fmt.Sprintf("%016x", mix64(h))
}

// sum hashes the request's key without allocating. A missing or empty
// header or cookie, or a Choice without a request, falls back to the
// client IP. A header Name must be in canonical form (newHash puts it so).
func (k HashKey) sum(c *Choice) uint64 {
	if c.Req != nil {
		switch k.Kind {
		case KeyHeader:
			if v := c.Req.Header[k.Name]; len(v) > 0 && v[0] != "" {
				return mix64(fnvString(fnvOffset, v[0]))
			}
		case KeyCookie:
			if v, ok := cookieValue(c.Req.Header, k.Name); ok && v != "" {
				return mix64(fnvString(fnvOffset, v))
			}
		}
	}
	ip := c.ClientIP.As16()
	return mix64(fnvBytes(fnvOffset, ip[:]))
}

// cookieValue returns the value of the first cookie called name in h's
// Cookie headers, with surrounding double quotes removed. Unlike
// http.Request.Cookie it does not allocate; it is lenient about malformed
// pairs, skipping them.
func cookieValue(h http.Header, name string) (string, bool) {
	for _, line := range h["Cookie"] {
		for line != "" {
			var part string
			if i := strings.IndexByte(line, ';'); i >= 0 {
				part, line = line[:i], line[i+1:]
			} else {
				part, line = line, ""
			}
			part = strings.TrimSpace(part)
			eq := strings.IndexByte(part, '=')
			if eq < 0 || strings.TrimSpace(part[:eq]) != name {
				continue
			}
			v := strings.TrimSpace(part[eq+1:])
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			return v, true
		}
	}
	return "", false
}
