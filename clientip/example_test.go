package clientip_test

import (
	"fmt"
	"net/http"
	"net/netip"

	"github.com/gatehouse-proxy/gatehouse/clientip"
)

// The worked example of the package documentation.
func ExampleResolver_Resolve() {
	x := clientip.New([]netip.Prefix{
		netip.MustParsePrefix("198.51.100.0/24"), // proxy A
		netip.MustParsePrefix("10.0.0.0/8"),      // proxy B
	}, 0)
	peer, _ := clientip.ParsePeer("10.0.0.2:41000") // proxy B

	h := http.Header{}
	h.Set("X-Forwarded-For", "203.0.113.7, 198.51.100.2")
	fmt.Println(x.Resolve(peer, h))

	// The client forged an entry; A appended what it saw after it.
	h.Set("X-Forwarded-For", "1.1.1.1, 203.0.113.7, 198.51.100.2")
	fmt.Println(x.Resolve(peer, h))

	// The client connected directly, with the same header.
	direct, _ := clientip.ParsePeer("203.0.113.7:52000")
	fmt.Println(x.Resolve(direct, h))
	// Output:
	// 203.0.113.7 true
	// 203.0.113.7 true
	// 203.0.113.7 false
}

// The CDN example of the package documentation: the CDN's addresses are
// not known, so the two proxies in front of Gatehouse are counted, and
// only the load balancer's network is trusted.
func ExampleNew_hops() {
	x := clientip.New([]netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, 2)
	lb, _ := clientip.ParsePeer("10.0.0.1:41000")

	h := http.Header{}
	h.Set("X-Forwarded-For", "203.0.113.7, 198.51.100.2")
	fmt.Println(x.Resolve(lb, h))

	// The client forged an entry; the CDN appended what it saw after it.
	h.Set("X-Forwarded-For", "1.1.1.1, 203.0.113.7, 198.51.100.2")
	fmt.Println(x.Resolve(lb, h))

	// Too few entries: the CDN was bypassed, nothing in the header is sure.
	h.Set("X-Forwarded-For", "1.1.1.1")
	fmt.Println(x.Resolve(lb, h))
	// Output:
	// 203.0.113.7 true
	// 203.0.113.7 true
	// 10.0.0.1 false
}
