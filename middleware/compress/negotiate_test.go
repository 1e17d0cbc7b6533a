package compress

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var all = []string{"zstd", "br", "gzip"}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		name, ae string
		prefer   []string
		want     string
	}{
		// RFC 9110 12.5.3: "An Accept-Encoding header field with a field
		// value that is empty implies that the user agent does not want
		// any content coding in response."
		{"empty", "", all, "identity"},
		{"only whitespace and commas", " , ,\t", all, "identity"},
		// Without weights every coding is q=1; the server's order breaks
		// the tie.
		{"browser", "gzip, deflate, br, zstd", all, "zstd"},
		{"browser without zstd", "gzip, deflate, br", all, "br"},
		{"curl", "gzip", all, "gzip"},
		{"server order decides", "gzip, br", []string{"gzip", "br"}, "gzip"},
		// q-values: the highest wins whatever the server prefers.
		{"q decides", "zstd;q=0.5, br;q=0.8, gzip;q=0.9", all, "gzip"},
		{"q=1 beats implicit order", "gzip;q=1, zstd;q=0.999", all, "gzip"},
		{"three decimals", "zstd;q=0.001, br;q=0.002", all, "br"},
		{"q=1.000", "gzip;q=1.000, zstd;q=0.9", all, "gzip"},
		{"q=0. and 1.", "zstd;q=0., gzip;q=1.", all, "gzip"},
		// "q=0" means "not acceptable".
		{"q=0 refuses", "zstd;q=0, br;q=0, gzip", all, "gzip"},
		{"q=0.000 refuses", "gzip;q=0.000", all, "identity"},
		{"all refused", "zstd;q=0, br;q=0, gzip;q=0", all, "identity"},
		// "*" matches any available coding not listed.
		{"star", "*", all, "zstd"},
		{"star with a refusal", "zstd;q=0, *", all, "br"},
		{"star weight", "*;q=0.5, gzip;q=0.6", all, "gzip"},
		{"star lower than listed", "br;q=0.4, *;q=0.5", all, "zstd"},
		{"star refused", "*;q=0", all, "identity"},
		{"star refused, one listed", "*;q=0, gzip;q=0.1", all, "gzip"},
		// identity: acceptable unless refused; it wins only with a
		// strictly higher weight.
		{"identity alone", "identity", all, "identity"},
		{"identity preferred", "identity;q=1, gzip;q=0.5", all, "identity"},
		{"identity tie goes to coding", "identity, gzip", all, "gzip"},
		{"identity refused", "identity;q=0, gzip;q=0.2", all, "gzip"},
		{"star covers identity", "*;q=0.5, zstd;q=0.1, br;q=0.1, gzip;q=0.1", all, "identity"},
		{"star ties identity with codings", "*;q=0.5, br;q=0.1", all, "zstd"},
		// Names are case-insensitive; x-gzip is gzip (RFC 9110 8.4.1.3).
		{"case", "GZIP, Br", all, "br"},
		{"ZSTD", "ZSTD;Q=0.9", all, "zstd"},
		{"x-gzip", "x-gzip", all, "gzip"},
		{"x-gzip weight", "x-gzip;q=0.8, br;q=0.7", all, "gzip"},
		// Whitespace around elements and parameters.
		{"OWS", " gzip ; q=0.5 ,\tbr\t;\tq=0.7 ", all, "br"},
		// Malformed weights make the element count as not listed.
		{"q too large", "zstd;q=1.5, gzip", all, "gzip"},
		{"q four decimals", "zstd;q=0.0001, gzip;q=0.001", all, "gzip"},
		{"q not a number", "zstd;q=high, gzip;q=0.1", all, "gzip"},
		{"q leading dot", "zstd;q=.5, gzip;q=0.1", all, "gzip"},
		{"q sign", "zstd;q=+1, gzip;q=0.1", all, "gzip"},
		{"q empty", "zstd;q=, gzip;q=0.1", all, "gzip"},
		{"malformed q on refusal stays ignored", "gzip;q=x", all, "identity"},
		{"other params ignored", "gzip;level=9;q=0.5, br;q=0.4", all, "gzip"},
		{"not a token", "g zip, br", all, "br"},
		// Listed twice: the higher weight counts.
		{"twice", "gzip;q=0, gzip;q=0.5", all, "gzip"},
		// Only what the server offers.
		{"not offered", "zstd", []string{"br", "gzip"}, "identity"},
		{"deflate not offered", "deflate", all, "identity"},
		{"nothing offered", "gzip", nil, "identity"},
		{"subset", "zstd, br", []string{"br"}, "br"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Negotiate(tc.ae, tc.prefer); got != tc.want {
				t.Errorf("Negotiate(%q, %v) = %q, want %q", tc.ae, tc.prefer, got, tc.want)
			}
			if got := reference(tc.ae, tc.prefer); got != tc.want {
				t.Errorf("reference(%q, %v) = %q, want %q (the model is wrong)", tc.ae, tc.prefer, got, tc.want)
			}
		})
	}
}

// TestPickFieldLines: several Accept-Encoding field lines are one list.
func TestPickFieldLines(t *testing.T) {
	tests := []struct {
		vals []string
		want int
	}{
		{[]string{"gzip", "br"}, 1},
		{[]string{"br;q=0.5", "gzip;q=0.9"}, 2},
		{[]string{"zstd;q=0", "", "*"}, 1},
		{nil, -1},
		{[]string{"", ""}, -1},
	}
	for _, tc := range tests {
		if got := pick(tc.vals, all); got != tc.want {
			t.Errorf("pick(%q) = %d, want %d", tc.vals, got, tc.want)
		}
	}
}

func TestNegotiateAllocs(t *testing.T) {
	for _, ae := range []string{"gzip, deflate, br, zstd", "br;q=0.9, gzip;q=0.8, *;q=0.1", "identity", ""} {
		if n := testing.AllocsPerRun(100, func() { Negotiate(ae, all) }); n != 0 {
			t.Errorf("Negotiate(%q) allocates %v times", ae, n)
		}
	}
}

// reference is a plain model of RFC 9110 12.5.3, written differently from
// Negotiate (split, regexp, floats), for the tests and the fuzz target to
// compare with.
func reference(ae string, prefer []string) string {
	type elem struct {
		coding string
		q      float64
	}
	var elems []elem
	for _, raw := range strings.Split(ae, ",") {
		parts := strings.Split(raw, ";")
		coding := strings.ToLower(strings.Trim(parts[0], " \t"))
		if coding == "" && len(parts) == 1 {
			continue
		}
		if !tokenRE.MatchString(coding) {
			continue
		}
		q, ok := 1.0, true
		for _, p := range parts[1:] {
			k, v, _ := strings.Cut(p, "=")
			if strings.ToLower(strings.Trim(k, " \t")) != "q" {
				continue
			}
			v = strings.Trim(v, " \t")
			if !qvalueRE.MatchString(v) {
				ok = false
				break
			}
			q, _ = strconv.ParseFloat(v, 64)
		}
		if !ok {
			continue
		}
		if coding == "x-gzip" {
			coding = "gzip"
		}
		elems = append(elems, elem{coding, q})
	}
	weigh := func(name string) float64 {
		best, star := -1.0, -1.0
		for _, e := range elems {
			switch {
			case e.coding == strings.ToLower(name):
				best = max(best, e.q)
			case e.coding == "*":
				star = max(star, e.q)
			}
		}
		switch {
		case best >= 0:
			return best
		case star >= 0:
			return star
		case name == "identity":
			return 0.0005 // acceptable, below any explicit weight
		}
		return 0
	}
	choice, w := "", 0.0
	for _, name := range prefer {
		if q := weigh(name); q > w {
			choice, w = name, q
		}
	}
	if choice == "" || weigh("identity") > w {
		return "identity"
	}
	return choice
}

var (
	tokenRE  = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9a-z-]+$")
	qvalueRE = regexp.MustCompile(`^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$`)
)

func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "gzip, deflate, br, zstd", "*;q=0", "identity;q=0, gzip;q=0.001",
		"x-gzip;Q=1.000", "br ; q=0.5,\t*", "zstd;q=1.0001", ",,gzip;;q=0.3;level=1,"} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(5))
	}
	offers := [][]string{all, {"gzip"}, {"br", "gzip"}, {"gzip", "zstd"}, {"zstd"}, {"gzip", "br", "zstd"}}
	f.Fuzz(func(t *testing.T, ae string, o uint8) {
		prefer := offers[int(o)%len(offers)]
		got := Negotiate(ae, prefer)
		if want := reference(ae, prefer); got != want {
			t.Fatalf("Negotiate(%q, %v) = %q, reference says %q", ae, prefer, got, want)
		}
	})
}

// TestNegotiateLongPrefer: a prefer list longer than one pass handles
// gives the same answers as the model.
func TestNegotiateLongPrefer(t *testing.T) {
	long := []string{"a", "b", "c", "d", "e", "f", "g", "h", "gzip", "br", "zstd"}
	for _, ae := range []string{"gzip, br", "zstd;q=0.5, *;q=0.4", "h;q=0.1, zstd;q=0.1", "*;q=0", "identity;q=1, br;q=0.9", "x-gzip"} {
		if got, want := Negotiate(ae, long), reference(ae, long); got != want {
			t.Errorf("Negotiate(%q) = %q, want %q", ae, got, want)
		}
	}
}
