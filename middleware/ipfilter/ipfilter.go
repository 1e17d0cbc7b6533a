// Package ipfilter allows or refuses requests by the client's address,
// from an allow list and a deny list of CIDRs.
//
// # Decision
//
// For a client address, in this order:
//
//  1. in the deny list: refused;
//  2. the allow list is not empty and the address is not in it: refused;
//  3. otherwise allowed.
//
// So deny wins over allow (allow 10.0.0.0/8 with deny 10.6.6.0/24 admits
// all of 10/8 but that /24), and an empty allow list admits everyone the
// deny list does not name. A request without a client address (it came
// over a Unix socket, whose peer has no IP) can match no entry: it is
// allowed when the allow list is empty and refused when it is not, since
// an allow list says "only these addresses" and such a request has none.
//
// # Entries
//
// An entry is a CIDR ("10.0.0.0/8", "2001:db8::/32") or a bare address,
// which is a /32 or a /128. Host bits are ignored, as in trusted_proxies:
// "10.1.2.3/8" is 10.0.0.0/8. Zones ("fe80::1%eth0") are refused.
//
// IPv4 and IPv6 are separate: an IPv4-mapped IPv6 client address
// (::ffff:192.0.2.1, as a dual-stack socket reports an IPv4 client) is
// compared as the IPv4 address it maps, and an entry inside
// ::ffff:0:0/96 is taken as the IPv4 prefix it maps (::ffff:10.0.0.0/104
// is 10.0.0.0/8). Any other IPv6 entry matches IPv6 addresses only, so
// ::/0 is every IPv6 client and no IPv4 one; 0.0.0.0/0 is every IPv4
// client. A zone on the client address is ignored.
//
// # Refusals
//
// A refusal is a 403 through the error funnel: the client reads only
// "forbidden", never which list or rule refused it; the log line says
// which list and the address.
//
// # Where it applies
//
// A route's filter (New, or Filter.Middleware) reads the client address
// that request_facts resolved behind trusted proxies
// (reqinfo.Info.ClientIP). A listener can use the same Filter: Allowed on
// the TCP peer's address at accept time, where the forwarding headers are
// not read yet, or Middleware in a chain that runs after request_facts.
//
// # Cost
//
// Each list is compiled into sorted, disjoint address ranges, so a
// decision is one or two binary searches, without allocation: about a
// hundred nanoseconds with ten thousand entries in each list, where a
// scan of the entries takes a thousand times longer.
package ipfilter

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// Options configure a route's filter. Validated by config.
type Options struct {
	// Allow and Deny are the lists as written: CIDRs or bare addresses.
	// Both empty means no filter.
	Allow, Deny []string
}

// New returns the middleware, or nil when both lists are empty. Refusals
// go to fail. The error names a bad entry.
func New(o Options, fail func(http.ResponseWriter, *http.Request, error)) (func(http.Handler) http.Handler, error) {
	if len(o.Allow) == 0 && len(o.Deny) == 0 {
		return nil, nil
	}
	f, err := Parse(o.Allow, o.Deny)
	if err != nil {
		return nil, err
	}
	return f.Middleware(fail), nil
}

// Filter is a compiled pair of lists. It is immutable and safe for
// concurrent use. A nil or zero Filter allows every address.
type Filter struct {
	allow, deny set
}

// Parse compiles the lists. The error names the first bad entry by its
// list and index ("allow[3] \"10.0.0.300\": ...").
func Parse(allow, deny []string) (*Filter, error) {
	a, err := parseList("allow", allow)
	if err != nil {
		return nil, err
	}
	d, err := parseList("deny", deny)
	if err != nil {
		return nil, err
	}
	return &Filter{allow: newSet(a), deny: newSet(d)}, nil
}

func parseList(name string, entries []string) ([]netip.Prefix, error) {
	ps := make([]netip.Prefix, 0, len(entries))
	for i, s := range entries {
		p, err := parseEntry(s)
		if err != nil {
			return nil, fmt.Errorf("%s[%d] %q: %w", name, i, s, err)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// parseEntry parses a CIDR or a bare address into a masked prefix, an
// IPv4-mapped one as the IPv4 prefix it maps.
func parseEntry(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil { // refuses zones too
			return netip.Prefix{}, err
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("not an address or CIDR: %w", err)
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("an address with a zone cannot be listed")
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

// verdict is what a Filter decides about an address, and why.
type verdict int

const (
	pass       verdict = iota
	denied             // in the deny list
	notAllowed         // not in a non-empty allow list
	noAddress          // no address, and the allow list is not empty
)

func (f *Filter) check(a netip.Addr) verdict {
	if f == nil {
		return pass
	}
	if !a.IsValid() {
		if f.allow.n > 0 {
			return noAddress
		}
		return pass
	}
	var inDeny, inAllow bool
	if a = a.Unmap(); a.Is4() {
		b := a.As4()
		k := binary.BigEndian.Uint32(b[:])
		inDeny = f.deny.contains4(k)
		inAllow = !inDeny && (f.allow.n == 0 || f.allow.contains4(k))
	} else {
		k := key(a)
		inDeny = f.deny.contains6(k)
		inAllow = !inDeny && (f.allow.n == 0 || f.allow.contains6(k))
	}
	switch {
	case inDeny:
		return denied
	case !inAllow:
		return notAllowed
	}
	return pass
}

// Allowed reports whether a request from a may pass (see the package
// documentation). The zero Addr is a client without an address.
func (f *Filter) Allowed(a netip.Addr) bool { return f.check(a) == pass }

// Middleware returns the filter as a route middleware that reads the
// request's client address from reqinfo and sends refusals to fail.
// A Filter with empty lists returns the handler it wraps.
func (f *Filter) Middleware(fail func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	if f == nil || f.allow.n == 0 && f.deny.n == 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	return func(next http.Handler) http.Handler { return &handler{f: f, fail: fail, next: next} }
}

type handler struct {
	f    *Filter
	fail func(http.ResponseWriter, *http.Request, error)
	next http.Handler
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := reqinfo.From(r.Context()).ClientIP
	switch h.f.check(a) {
	case pass:
		h.next.ServeHTTP(w, r)
	case denied:
		h.fail(w, r, fmt.Errorf("ip_filter: client %s is in the deny list: %w", a, funnel.ErrForbidden))
	case notAllowed:
		h.fail(w, r, fmt.Errorf("ip_filter: client %s is not in the allow list: %w", a, funnel.ErrForbidden))
	case noAddress:
		h.fail(w, r, fmt.Errorf("ip_filter: the client has no IP address (a Unix socket peer) and the route has an allow list: %w", funnel.ErrForbidden))
	}
}

var _ http.Handler = (*handler)(nil)
