package ipfilter

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// benchLists returns n random entries for each list, a quarter of them
// IPv6, and 1,024 addresses to ask about: half inside listed prefixes.
func benchLists(b *testing.B, n int) (allow, deny []string, probes []netip.Addr) {
	g := newGen(uint64(n))
	for i := range n {
		var a netip.Addr
		if i%4 == 3 {
			a = g.addr6()
			allow = append(allow, netip.PrefixFrom(a, 32+g.r.IntN(33)).Masked().String())
		} else {
			a = g.addr4()
			allow = append(allow, netip.PrefixFrom(a, 16+g.r.IntN(17)).Masked().String())
		}
		deny = append(deny, netip.PrefixFrom(g.addr4(), 24+g.r.IntN(9)).Masked().String())
	}
	ps := modelList(b, allow)
	for i := range 1024 {
		if i%2 == 0 {
			probes = append(probes, g.near(ps[g.r.IntN(len(ps))].Addr()))
		} else if i%4 == 1 {
			probes = append(probes, g.addr4())
		} else {
			probes = append(probes, g.addr6())
		}
	}
	return allow, deny, probes
}

// BenchmarkAllowed: one decision (a deny lookup, then an allow lookup
// unless denied) with n entries in each list; "linear" is the reference
// model, a Contains per entry, for comparison.
func BenchmarkAllowed(b *testing.B) {
	for _, n := range []int{1, 100, 10000} {
		allow, deny, probes := benchLists(b, n)
		f := mustParse(b, allow, deny)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				f.Allowed(probes[i&1023])
			}
		})
		ma, md := modelList(b, allow), modelList(b, deny)
		b.Run(fmt.Sprintf("%d/linear", n), func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				modelAllowed(ma, md, probes[i&1023])
			}
		})
	}
}

// BenchmarkMiddleware: the route middleware passing a request, 10,000
// entries in each list.
func BenchmarkMiddleware(b *testing.B) {
	allow, deny, probes := benchLists(b, 10000)
	f := mustParse(b, allow, deny)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	h := f.Middleware(func(w http.ResponseWriter, r *http.Request, err error) { b.Fatal(err) })(ok)
	r := httptest.NewRequest("GET", "/", nil)
	ctx, info := reqinfo.NewContext(r.Context())
	for _, a := range probes {
		if f.Allowed(a) {
			info.ClientIP = a
			break
		}
	}
	r = r.WithContext(ctx)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(nil, r)
	}
}
