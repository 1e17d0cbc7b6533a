package policy

import (
	"net/http"
	"net/textproto"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func FuzzParseCacheControl(f *testing.F) {
	for _, s := range []string{
		"public, max-age=3600, stale-while-revalidate=60",
		`no-cache="Set-Cookie, X-Foo", private="a\"b", max-age="60"`,
		"max-stale, max-stale=5, min-fresh=1, s-maxage=x, only-if-cached",
		`ext="a, max-age=9", max-age=99999999999999999999, immutable=1`,
		`no-cache="unterminated, max-age=1`,
		"MAX-AGE = 5 junk,,, =, @",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := cc(s)
		for _, v := range []int64{d.MaxAge, d.SMaxAge, d.StaleWhileRevalidate, d.StaleIfError, d.MinFresh, d.MaxStale} {
			if v < -1 || v > maxDelta {
				t.Fatalf("%q: delta value %d out of range", s, v)
			}
		}
		if d.MaxStaleAny && d.MaxStale >= 0 {
			t.Fatalf("%q: max-stale both with and without a value", s)
		}
		for _, fields := range [][]string{d.NoCacheFields, d.PrivateFields} {
			for i, name := range fields {
				if !isToken(name) || textproto.CanonicalMIMEHeaderKey(name) != name || slices.Index(fields, name) != i {
					t.Fatalf("%q: bad field list %q", s, fields)
				}
			}
		}
		// parse -> format -> parse gives the same directives, Invalid
		// aside (String writes the first valid value).
		out := d.String()
		back := cc(out)
		if back.Invalid {
			t.Fatalf("%q: String() = %q parses as invalid", s, out)
		}
		d.Invalid = false
		if !reflect.DeepEqual(back, d) {
			t.Fatalf("%q: round trip through %q\n got %+v\nwant %+v", s, out, back, d)
		}
		if again := back.String(); again != out {
			t.Fatalf("%q: String not stable: %q then %q", s, out, again)
		}
	})
}

func FuzzParseVary(f *testing.F) {
	for _, s := range []string{"Accept-Encoding, accept-language", "*", "a, , b,*", "bad name", `"quoted, name"`} {
		f.Add(s, "gzip, BR")
	}
	f.Fuzz(func(t *testing.T, vary, value string) {
		names, star := ParseVary(hdr("Vary", vary))
		if !slices.IsSorted(names) || len(slices.Compact(slices.Clone(names))) != len(names) {
			t.Fatalf("%q: names not sorted and unique: %q", vary, names)
		}
		for _, n := range names {
			if !isToken(n) || textproto.CanonicalMIMEHeaderKey(n) != n {
				t.Fatalf("%q: bad name %q", vary, n)
			}
		}
		if !star {
			back, backStar := ParseVary(hdr("Vary", FormatVary(names, star)))
			if backStar || !slices.Equal(back, names) {
				t.Fatalf("%q: round trip gives %q, %v", vary, back, backStar)
			}
		}
		for _, n := range append(names, "Accept-Encoding", "X-Other") {
			v := NormalizeValue(n, []string{value})
			if v == AbsentValue || strings.ContainsAny(v, "\x00\r\n") {
				t.Fatalf("NormalizeValue(%q, %q) = %q", n, value, v)
			}
			if NormalizeValue(n, []string{v}) != v {
				t.Fatalf("NormalizeValue(%q) not idempotent on %q", n, value)
			}
		}
		req := http.Header{}
		req["Accept-Encoding"] = []string{value}
		if VaryKey(names, req) != VaryKey(names, req.Clone()) {
			t.Fatal("VaryKey not deterministic")
		}
	})
}

func FuzzCurrentAge(f *testing.F) {
	f.Add("Fri, 01 Mar 2024 11:59:00 GMT", "30", int64(-2), int64(0), int64(100))
	f.Add("Friday, 01-Mar-24 11:59:00 GMT", "30, 40", int64(5), int64(0), int64(-5))
	f.Add("Fri Mar  1 11:59:00 2024", "-1", int64(0), int64(0), int64(0))
	f.Add("Mon, 01 Jan 0001 00:00:00 GMT", "99999999999999999999", int64(-1e9), int64(1e9), int64(1e10))
	f.Fuzz(func(t *testing.T, date, age string, reqOff, respOff, nowOff int64) {
		// Offsets in seconds, kept within a few thousand years.
		span := int64(1e11)
		at := func(off int64) time.Time { return t0.Add(time.Duration(off%span) * time.Second) }
		h := hdr("Date", date, "Age", age)
		req, resp, now := at(reqOff), at(respOff), at(nowOff)
		a := CurrentAge(h, req, resp, now)
		if a < 0 || a > maxDelta*time.Second || a%time.Second != 0 {
			t.Fatalf("CurrentAge = %v", a)
		}
		if later := CurrentAge(h, req, resp, now.Add(time.Hour)); later < a {
			t.Fatalf("age went down as time passed: %v then %v", a, later)
		}
		if resident := now.Sub(resp).Truncate(time.Second); resident > 0 && resident < maxDelta*time.Second && a < resident {
			t.Fatalf("age %v below the resident time %v", a, resident)
		}
		// A Date that parses formats back to an IMF-fixdate that parses to
		// the same time.
		if d, ok := parseDate(date, resp); ok {
			if back, ok := parseDate(httpDate(d), resp); !ok || !back.Equal(d) {
				t.Fatalf("date %q parsed to %v, round trip %v %v", date, d, back, ok)
			}
		}
		if AgeValue(a) != AgeValue(a+time.Second/2) {
			t.Fatal("AgeValue is not in whole seconds")
		}
	})
}
