package cache

import (
	"net/http"
	"net/textproto"
	"slices"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// KeyOptions selects what, besides scheme, host and path, tells stored
// responses apart.
type KeyOptions struct {
	// Query is "all" (as sent; the zero value), "sorted" or "none".
	Query string
	// IgnoreParams are query parameters left out (the query is then
	// sorted as well).
	IgnoreParams []string
	// Headers and Cookies are request headers and cookies whose values
	// join the key.
	Headers []string
	Cookies []string
}

// keyer builds primary cache keys. Immutable after newKeyer.
type keyer struct {
	sorted  bool
	none    bool
	ignore  []string
	headers []string
	cookies []string
}

func newKeyer(o KeyOptions) *keyer {
	k := &keyer{
		sorted: o.Query == "sorted" || len(o.IgnoreParams) > 0,
		none:   o.Query == "none",
		ignore: o.IgnoreParams,
	}
	for _, h := range o.Headers {
		k.headers = append(k.headers, textproto.CanonicalMIMEHeaderKey(h))
	}
	k.cookies = o.Cookies
	return k
}

// extraSep starts the part of a key that is not the URL (selected headers
// and cookies), so that purging a URL can find every key of it.
const extraSep = "\x00"

// key returns r's primary key: the URL as the client addressed it, scheme
// and host lower-cased (the host exactly as sent otherwise, so a request
// with an odd Host can never answer or fill another's entry), the
// normalized path, the query as configured, then the selected headers and
// cookies.
func (k *keyer) key(r *http.Request, info *reqinfo.Info) string {
	var b strings.Builder
	path := info.Path
	if path == "" {
		path = r.URL.EscapedPath()
	}
	b.Grow(len(info.Scheme) + 3 + len(r.Host) + len(path) + 1 + len(r.URL.RawQuery))
	writeURL(&b, info.Scheme, r.Host, path)
	k.writeQuery(&b, r.URL.RawQuery)
	if len(k.headers) > 0 || len(k.cookies) > 0 {
		k.writeExtra(&b, r)
	}
	return b.String()
}

// writeQuery adds the query as the key keeps it.
func (k *keyer) writeQuery(b *strings.Builder, q string) {
	if q == "" || k.none {
		return
	}
	if k.sorted {
		q = normalizeQuery(q, k.ignore)
	}
	if q != "" {
		b.WriteByte('?')
		b.WriteString(q)
	}
}

// urlKey is the key prefix of an absolute URL's entries, as key builds
// it: for purging and invalidation.
func urlKey(scheme, host, pathQuery string) string {
	var b strings.Builder
	writeURL(&b, scheme, host, pathQuery)
	return b.String()
}

func writeURL(b *strings.Builder, scheme, host, path string) {
	b.WriteString(scheme)
	b.WriteString("://")
	for i := 0; i < len(host); i++ {
		c := host[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
}

func (k *keyer) writeExtra(b *strings.Builder, r *http.Request) {
	for _, h := range k.headers {
		b.WriteString(extraSep)
		b.WriteString(h)
		b.WriteByte('=')
		b.WriteString(strings.Join(r.Header[h], ","))
	}
	for _, c := range k.cookies {
		b.WriteString(extraSep)
		b.WriteString("cookie:")
		b.WriteString(c)
		b.WriteByte('=')
		if ck, err := r.Cookie(c); err == nil {
			b.WriteString(ck.Value)
		}
	}
}

// normalizeQuery sorts the parameters of a raw query (by name, then value,
// the encoding kept as sent) and drops empty ones and those named in
// ignore. Parameter names are compared after decoding '+' and percent
// escapes only for the ignore list, so ?utm%5Fsource=1 is ignored too.
func normalizeQuery(q string, ignore []string) string {
	parts := strings.Split(q, "&")
	parts = slices.DeleteFunc(parts, func(p string) bool {
		if p == "" {
			return true
		}
		if len(ignore) == 0 {
			return false
		}
		name, _, _ := strings.Cut(p, "=")
		return slices.Contains(ignore, unescapeName(name))
	})
	slices.Sort(parts)
	return strings.Join(parts, "&")
}

func unescapeName(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
