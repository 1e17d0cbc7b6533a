package ratelimit

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// A Key says what requests are counted by: one part, or several whose
// values together name a bucket.
type Key struct {
	parts []part
}

type partKind uint8

const (
	clientIP partKind = iota
	route
	header
	cookie
	query
	identity
	claim
)

type part struct {
	kind   partKind
	name   string // header (canonical), cookie or query parameter name
	v4, v6 int    // prefix lengths for clientIP
}

// ParseKey compiles a key as config writes it: parts joined by "+", each
// client_ip, route, header:NAME, cookie:NAME, query:NAME, identity (who
// the route's auth admitted) or claim:NAME (a claim of that identity).
// v4 and v6 are the prefix lengths client_ip groups addresses by.
func ParseKey(s string, v4, v6 int) (Key, error) {
	var k Key
	for _, p := range strings.Split(s, "+") {
		kind, name, named := strings.Cut(p, ":")
		switch {
		case p == "client_ip":
			k.parts = append(k.parts, part{kind: clientIP, v4: v4, v6: v6})
		case p == "route":
			k.parts = append(k.parts, part{kind: route})
		case p == "identity":
			k.parts = append(k.parts, part{kind: identity})
		case named && name != "" && kind == "claim":
			k.parts = append(k.parts, part{kind: claim, name: name})
		case named && name != "" && kind == "header":
			k.parts = append(k.parts, part{kind: header, name: http.CanonicalHeaderKey(name)})
		case named && name != "" && kind == "cookie":
			k.parts = append(k.parts, part{kind: cookie, name: name})
		case named && name != "" && kind == "query":
			k.parts = append(k.parts, part{kind: query, name: name})
		default:
			return Key{}, fmt.Errorf("ratelimit: unknown key part %q", p)
		}
	}
	return k, nil
}

// NeedsIdentity reports whether the key has an identity or claim part:
// such a limit can only count requests the route's auth admitted, so it
// runs after authentication; any other counts before it, failed logins
// included.
func (k Key) NeedsIdentity() bool {
	for _, p := range k.parts {
		if p.kind == identity || p.kind == claim {
			return true
		}
	}
	return false
}

// value is r's bucket name under k; ok is false when a header, cookie,
// query parameter, identity or claim the key needs is absent or empty
// (the bucket is then the one all such requests share).
func (k Key) value(r *http.Request, info *reqinfo.Info) (v string, ok bool) {
	if len(k.parts) == 1 {
		return k.parts[0].value(r, info)
	}
	var b []byte
	ok = true
	for i := range k.parts {
		pv, pok := k.parts[i].value(r, info)
		ok = ok && pok
		// Each value after its length: no two lists of values join alike.
		b = binary.AppendUvarint(b, uint64(len(pv)))
		b = append(b, pv...)
	}
	return string(b), ok
}

func (p *part) value(r *http.Request, info *reqinfo.Info) (string, bool) {
	switch p.kind {
	case clientIP:
		a := info.ClientIP
		if !a.IsValid() {
			return "", true // a Unix socket peer: one client
		}
		bits := p.v6
		if a.Is4() {
			bits = p.v4
		}
		if bits < a.BitLen() {
			a = netip.PrefixFrom(a, bits).Masked().Addr()
		}
		return ipKey(a), true
	case route:
		return "", true
	case header:
		vs := r.Header[p.name]
		if len(vs) == 0 || vs[0] == "" {
			return "", false
		}
		return vs[0], true
	case cookie:
		c, err := r.Cookie(p.name)
		if err != nil || c.Value == "" {
			return "", false
		}
		return c.Value, true
	case identity:
		if id := info.Identity; id != nil && id.User != "" {
			return id.User, true
		}
		return "", false
	case claim:
		if id := info.Identity; id != nil && id.Claims[p.name] != "" {
			return id.Claims[p.name], true
		}
		return "", false
	default:
		v := r.URL.Query().Get(p.name)
		return v, v != ""
	}
}

// ipKey is a's bytes as a string: 4 or 16, never mistaken for another
// address's.
func ipKey(a netip.Addr) string {
	if a.Is4() {
		b := a.As4()
		return string(b[:])
	}
	b := a.As16()
	return string(b[:])
}
