package ipfilter

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// The reference model: the package documentation's rules read literally,
// over the entries as written, one netip.Prefix.Contains per entry.

// modelEntry parses an entry as the documentation says, or fails.
func modelEntry(s string) (netip.Prefix, bool) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p, true
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	return netip.Prefix{}, false
}

// modelIn: an entry inside ::ffff:0:0/96 is the IPv4 prefix it maps; the
// client is compared unmapped and without its zone.
func modelIn(list []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range list {
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func modelAllowed(allow, deny []netip.Prefix, a netip.Addr) bool {
	if !a.IsValid() {
		return len(allow) == 0
	}
	if modelIn(deny, a) {
		return false
	}
	return len(allow) == 0 || modelIn(allow, a)
}

func modelList(t testing.TB, entries []string) []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range entries {
		p, ok := modelEntry(s)
		if !ok {
			t.Fatalf("generated a bad entry %q", s)
		}
		ps = append(ps, p)
	}
	return ps
}

// gen draws entries that overlap, nest and touch: a few base networks,
// random lengths, and every spelling (CIDR, bare address, host bits set,
// IPv4-mapped).
type gen struct {
	r     *rand.Rand
	bases []netip.Addr
}

func newGen(seed uint64) *gen {
	g := &gen{r: rand.New(rand.NewPCG(seed, 1))}
	for range 4 {
		g.bases = append(g.bases, g.addr4(), g.addr6())
	}
	g.bases = append(g.bases, netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("255.255.255.255"),
		netip.MustParseAddr("::"), netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
		netip.MustParseAddr("::ffff:0:0"))
	return g
}

func (g *gen) addr4() netip.Addr {
	var b [4]byte
	for i := range b {
		b[i] = byte(g.r.UintN(256))
	}
	return netip.AddrFrom4(b)
}

func (g *gen) addr6() netip.Addr {
	var b [16]byte
	for i := range b {
		b[i] = byte(g.r.UintN(256))
	}
	return netip.AddrFrom16(b)
}

// near returns a with random low bits: an address in some of the
// prefixes around a.
func (g *gen) near(a netip.Addr) netip.Addr {
	b := a.As16()
	keep := 96 + g.r.IntN(33)
	if !a.Is4() {
		keep = g.r.IntN(129)
	}
	for i := keep; i < 128; i++ {
		if g.r.IntN(2) == 1 {
			b[i/8] ^= 0x80 >> (i % 8)
		}
	}
	if a.Is4() {
		return netip.AddrFrom16(b).Unmap()
	}
	return netip.AddrFrom16(b)
}

func (g *gen) entry() string {
	a := g.near(g.bases[g.r.IntN(len(g.bases))])
	bits := g.r.IntN(a.BitLen() + 1)
	if a.Is4() {
		bits = max(bits, g.r.IntN(33)) // favour long IPv4 prefixes
	}
	switch g.r.IntN(8) {
	case 0:
		return a.String() // a bare address
	case 1:
		if a.Is4() { // the mapped spelling
			return netip.PrefixFrom(netip.AddrFrom16(a.As16()), bits+96).String()
		}
	case 2:
		return netip.PrefixFrom(a, bits).String() // host bits set
	}
	return netip.PrefixFrom(a, bits).Masked().String()
}

func (g *gen) entries(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = g.entry()
	}
	return out
}

// probe returns an address worth asking about: the edges of the listed
// prefixes and just outside them, in either spelling, or anything.
func (g *gen) probe(ps []netip.Prefix) netip.Addr {
	if len(ps) == 0 || g.r.IntN(4) == 0 {
		if g.r.IntN(2) == 0 {
			return g.near(g.bases[g.r.IntN(len(g.bases))])
		}
		return g.addr4()
	}
	p := ps[g.r.IntN(len(ps))]
	var a netip.Addr
	switch g.r.IntN(4) {
	case 0:
		a = p.Masked().Addr()
	case 1:
		a = lastAddr(p)
	case 2:
		a = p.Masked().Addr().Prev()
	default:
		a = lastAddr(p).Next()
	}
	if a.IsValid() && a.Is4() && g.r.IntN(3) == 0 {
		a = netip.AddrFrom16(a.As16()) // asked as a dual-stack socket reports it
	}
	return a // the zero Addr past either end of the space: no address
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// checkSet checks that each family's ranges are sorted, well formed, and
// neither overlap nor touch.
func checkSet(t testing.TB, s set) {
	t.Helper()
	if len(s.v4lo) != len(s.v4hi) || len(s.v6lo) != len(s.v6hi) {
		t.Fatal("starts and ends of ranges differ in number")
	}
	var v4, v6 []span
	for i := range s.v4lo {
		v4 = append(v4, span{u128{0, uint64(s.v4lo[i])}, u128{0, uint64(s.v4hi[i])}})
	}
	for i := range s.v6lo {
		v6 = append(v6, span{s.v6lo[i], s.v6hi[i]})
	}
	checkSpans(t, v4)
	checkSpans(t, v6)
}

func checkSpans(t testing.TB, spans []span) {
	t.Helper()
	for i, s := range spans {
		if s.hi.less(s.lo) {
			t.Fatalf("span %d ends before it starts: %+v", i, s)
		}
		if i > 0 {
			next, ok := spans[i-1].hi.succ()
			if !ok || !next.less(s.lo) {
				t.Fatalf("spans %d and %d overlap or touch: %+v %+v", i-1, i, spans[i-1], s)
			}
		}
	}
}

// TestAgainstModel: random lists of every size the benchmarks use, and
// the addresses at and around their edges, answered as the model does.
func TestAgainstModel(t *testing.T) {
	for seed := range uint64(300) {
		g := newGen(seed)
		size := []int{0, 1, 2, 5, 20, 100}[seed%6]
		if seed%50 == 49 {
			size = 2000
		}
		allow, deny := g.entries(size), g.entries(g.r.IntN(size+1))
		f, err := Parse(allow, deny)
		if err != nil {
			t.Fatal(err)
		}
		checkSet(t, f.allow)
		checkSet(t, f.deny)
		ma, md := modelList(t, allow), modelList(t, deny)
		all := append(append([]netip.Prefix(nil), ma...), md...)
		for range 300 {
			a := g.probe(all)
			if got, want := f.Allowed(a), modelAllowed(ma, md, a); got != want {
				t.Fatalf("seed %d: Allowed(%v) = %v, model %v\nallow %q\ndeny %q", seed, a, got, want, allow, deny)
			}
		}
	}
}

// FuzzFilter: lists decoded from spec plus one entry written as raw, and
// an address; Parse accepts raw exactly when the model does, and the
// filter answers as the model.
func FuzzFilter(f *testing.F) {
	f.Add([]byte{3, 0, 8, 10, 0, 0, 0, 0x80, 24, 10, 6, 6, 0, 0, 1}, "")
	f.Add([]byte{2, 1, 32, 0x20, 1, 0xd, 0xb8, 0x81, 128, 0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2}, "::ffff:10.0.0.0/104")
	f.Add([]byte{1, 2, 104, 10, 0, 0, 0, 4, 0, 3}, "0.0.0.0/0")
	f.Add([]byte{}, "fe80::1%eth0")
	f.Add([]byte{0, 5, 1, 2, 3, 4}, "10.1.2.3/8")
	f.Fuzz(func(t *testing.T, spec []byte, raw string) {
		d := decoder{b: spec}
		var allow, deny []string
		for n := int(d.next() % 32); n > 0; n-- {
			h, e := d.entry()
			if h&0x80 != 0 {
				deny = append(deny, e)
			} else {
				allow = append(allow, e)
			}
		}
		if raw != "" {
			allow = append(allow, raw)
		}
		fl, err := Parse(allow, deny)
		if _, ok := modelEntry(raw); raw != "" && !ok {
			want := fmt.Sprintf("allow[%d] %q: ", len(allow)-1, raw)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Fatalf("Parse of %q: %v, want an error starting %s", raw, err, want)
			}
			return
		}
		if err != nil {
			t.Fatalf("Parse(%q, %q): %v", allow, deny, err)
		}
		ma, md := modelList(t, allow), modelList(t, deny)
		a := d.probe(append(append([]netip.Prefix(nil), ma...), md...))
		if got, want := fl.Allowed(a), modelAllowed(ma, md, a); got != want {
			t.Fatalf("Allowed(%v) = %v, model %v\nallow %q\ndeny %q", a, got, want, allow, deny)
		}
	})
}

// decoder reads fuzz bytes as entries and an address; past the end it
// reads zeros.
type decoder struct{ b []byte }

func (d *decoder) next() byte {
	if len(d.b) == 0 {
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) addr(v6 bool) netip.Addr {
	if !v6 {
		return netip.AddrFrom4([4]byte{d.next(), d.next(), d.next(), d.next()})
	}
	var b [16]byte
	for i := range b {
		b[i] = d.next()
	}
	return netip.AddrFrom16(b)
}

// entry reads a header byte (bit 7: the deny list; bit 0: IPv6; bit 1:
// the mapped spelling of IPv4; bit 2: a bare address), a length and an
// address, and writes it as text.
func (d *decoder) entry() (byte, string) {
	h := d.next()
	bits := int(d.next())
	a := d.addr(h&1 != 0)
	switch {
	case h&4 != 0:
		return h, a.String()
	case h&2 != 0 && a.Is4():
		return h, netip.PrefixFrom(netip.AddrFrom16(a.As16()), 96+bits%33).String()
	}
	return h, netip.PrefixFrom(a, bits%(a.BitLen()+1)).String()
}

// probe reads the address asked about: one at or just past an edge of a
// listed prefix, or one from the bytes, either spelling of IPv4, or none.
func (d *decoder) probe(ps []netip.Prefix) netip.Addr {
	mode := d.next()
	var a netip.Addr
	switch {
	case mode&0x70 == 0x70:
		return netip.Addr{}
	case len(ps) > 0 && mode&8 != 0:
		p := ps[int(d.next())%len(ps)]
		switch mode & 3 {
		case 0:
			a = p.Masked().Addr()
		case 1:
			a = lastAddr(p)
		case 2:
			a = p.Masked().Addr().Prev()
		default:
			a = lastAddr(p).Next()
		}
	default:
		a = d.addr(mode&1 != 0)
	}
	if a.IsValid() && a.Is4() && mode&4 != 0 {
		a = netip.AddrFrom16(a.As16())
	}
	return a
}
