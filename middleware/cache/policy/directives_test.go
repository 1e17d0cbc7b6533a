package policy

import (
	"net/http"
	"reflect"
	"testing"
)

func TestParseCacheControl(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  Directives
	}{
		{name: "9111 5.2 no Cache-Control: every delta directive absent", want: dir(nil)},
		{name: "9111 5.2 directive names are case-insensitive", lines: []string{"MAX-AGE=60, No-Store, S-MaxAge=5"},
			want: dir(func(d *Directives) { d.MaxAge, d.NoStore, d.SMaxAge = 60, true, 5 })},
		{name: "9110 5.3 all Cache-Control field lines are one list", lines: []string{"max-age=60", "public"},
			want: dir(func(d *Directives) { d.MaxAge, d.Public = 60, true })},
		{name: "9111 5.2 max-age in quoted-string form is accepted", lines: []string{`max-age="60"`},
			want: dir(func(d *Directives) { d.MaxAge = 60 })},
		{name: "9110 5.6.4 quoted-pair escapes are resolved in a quoted argument", lines: []string{`no-cache="Set\-Cookie"`},
			want: dir(func(d *Directives) { d.NoCacheFields = []string{"Set-Cookie"} })},
		{name: "9111 5.2.3 unknown directives are ignored", lines: []string{`foo=bar, community="UCI", max-age=5, x`},
			want: dir(func(d *Directives) { d.MaxAge = 5 })},
		{name: "9111 5.2.3 a comma inside an unknown directive's quoted argument does not split", lines: []string{`ext="a, max-age=9", max-age=5`},
			want: dir(func(d *Directives) { d.MaxAge = 5 })},
		{name: "9111 1.2.2 delta-seconds too large is clamped to 2^31", lines: []string{"max-age=99999999999999999999999"},
			want: dir(func(d *Directives) { d.MaxAge = 2147483648 })},
		{name: "9111 1.2.2 delta-seconds at 2^31+1 is clamped to 2^31", lines: []string{"s-maxage=2147483649"},
			want: dir(func(d *Directives) { d.SMaxAge = 2147483648 })},
		{name: "9111 4.2.1 max-age with non-integer content is invalid", lines: []string{"max-age=abc"},
			want: dir(func(d *Directives) { d.Invalid = true })},
		{name: "9111 4.2.1 negative max-age is invalid", lines: []string{"max-age=-1"},
			want: dir(func(d *Directives) { d.Invalid = true })},
		{name: "9111 4.2.1 max-age without a value is invalid", lines: []string{"max-age"},
			want: dir(func(d *Directives) { d.Invalid = true })},
		{name: "9111 4.2.1 max-age with an empty value is invalid", lines: []string{"max-age=, public"},
			want: dir(func(d *Directives) { d.Invalid, d.Public = true, true })},
		{name: "9111 4.2.1 max-age with a fractional value is invalid", lines: []string{"max-age=1.5"},
			want: dir(func(d *Directives) { d.Invalid = true })},
		{name: "9111 4.2.1 duplicate max-age with the same value is used", lines: []string{"max-age=60", "max-age=60"},
			want: dir(func(d *Directives) { d.MaxAge = 60 })},
		{name: "9111 4.2.1 conflicting max-age duplicates make the response stale", lines: []string{"max-age=60, max-age=120"},
			want: dir(func(d *Directives) { d.MaxAge, d.Invalid = 60, true })},
		{name: "9111 4.2.1 conflicting s-maxage duplicates make the response stale", lines: []string{"s-maxage=1", "s-maxage=2"},
			want: dir(func(d *Directives) { d.SMaxAge, d.Invalid = 1, true })},
		{name: "9111 5.2.2.10 malformed s-maxage keeps its proxy-revalidate semantics", lines: []string{"s-maxage=soon"},
			want: dir(func(d *Directives) { d.Invalid, d.ProxyRevalidate = true, true })},
		{name: "9111 4.2.1 conflicting stale-while-revalidate keeps the most restrictive", lines: []string{"stale-while-revalidate=60, stale-while-revalidate=30"},
			want: dir(func(d *Directives) { d.StaleWhileRevalidate = 30 })},
		{name: "9111 4.2.1 conflicting stale-if-error keeps the most restrictive", lines: []string{"stale-if-error=10", "stale-if-error=600"},
			want: dir(func(d *Directives) { d.StaleIfError = 10 })},
		{name: "5861 3 malformed stale-while-revalidate grants nothing", lines: []string{"max-age=5, stale-while-revalidate=abc"},
			want: dir(func(d *Directives) { d.MaxAge = 5 })},
		{name: "5861 4 malformed stale-if-error grants nothing", lines: []string{"stale-if-error"},
			want: dir(nil)},
		{name: "9111 5.2.1.2 max-stale without a value accepts any staleness", lines: []string{"max-stale"},
			want: dir(func(d *Directives) { d.MaxStaleAny = true })},
		{name: "9111 5.2.1.2 max-stale with a value", lines: []string{"max-stale=30"},
			want: dir(func(d *Directives) { d.MaxStale = 30 })},
		{name: "9111 4.2.1 max-stale with a value beats max-stale without", lines: []string{"max-stale, max-stale=10"},
			want: dir(func(d *Directives) { d.MaxStale = 10 })},
		{name: "9111 4.2.1 max-stale with a value beats max-stale without, in either order", lines: []string{"max-stale=10, max-stale"},
			want: dir(func(d *Directives) { d.MaxStale = 10 })},
		{name: "9111 5.2.1.2 malformed max-stale accepts no staleness", lines: []string{"max-stale=abc"},
			want: dir(nil)},
		{name: "9111 4.2.1 conflicting min-fresh keeps the largest", lines: []string{"min-fresh=5, min-fresh=50"},
			want: dir(func(d *Directives) { d.MinFresh = 50 })},
		{name: "9111 5.2.1.1 request max-age", lines: []string{"max-age=0"},
			want: dir(func(d *Directives) { d.MaxAge = 0 })},
		{name: "9111 5.2.2.4 unqualified no-cache", lines: []string{"no-cache"},
			want: dir(func(d *Directives) { d.NoCache = true })},
		{name: "9111 5.2.2.4 qualified no-cache lists canonical fields and leaves NoCache unset", lines: []string{`no-cache="set-cookie, x-foo"`},
			want: dir(func(d *Directives) { d.NoCacheFields = []string{"Set-Cookie", "X-Foo"} })},
		{name: "9111 5.2.2.4 token form of the no-cache argument is accepted", lines: []string{"no-cache=Set-Cookie"},
			want: dir(func(d *Directives) { d.NoCacheFields = []string{"Set-Cookie"} })},
		{name: "9111 5.2.2.4 empty no-cache argument counts as unqualified", lines: []string{`no-cache=""`},
			want: dir(func(d *Directives) { d.NoCache = true })},
		{name: "9111 5.2.2.4 malformed no-cache field list counts as unqualified", lines: []string{`no-cache="a b"`},
			want: dir(func(d *Directives) { d.NoCache = true })},
		{name: "9111 5.2.2.4 unqualified and qualified no-cache together", lines: []string{`no-cache, no-cache="Set-Cookie"`},
			want: dir(func(d *Directives) { d.NoCache, d.NoCacheFields = true, []string{"Set-Cookie"} })},
		{name: "9111 5.2.2.7 unqualified private", lines: []string{"private"},
			want: dir(func(d *Directives) { d.Private = true })},
		{name: "9111 5.2.2.7 qualified private lists fields and leaves Private unset", lines: []string{`private="Authorization-Info"`, `private="a, authorization-info, B"`},
			want: dir(func(d *Directives) { d.PrivateFields = []string{"Authorization-Info", "A", "B"} })},
		{name: "8246 2 immutable arguments have no meaning and are ignored", lines: []string{"immutable=yes, max-age=31536000"},
			want: dir(func(d *Directives) { d.Immutable, d.MaxAge = true, 31536000 })},
		{name: "9111 5.2 directives without arguments", lines: []string{"no-store, no-transform, must-revalidate, proxy-revalidate, must-understand, public, only-if-cached, immutable"},
			want: dir(func(d *Directives) {
				d.NoStore, d.NoTransform, d.MustRevalidate, d.ProxyRevalidate = true, true, true, true
				d.MustUnderstand, d.Public, d.OnlyIfCached, d.Immutable = true, true, true, true
			})},
		{name: "9111 5.2 an argument on a directive without one still counts", lines: []string{"no-store=1"},
			want: dir(func(d *Directives) { d.NoStore = true })},
		{name: "9111 5.2 garbage after a value makes that directive malformed only", lines: []string{"max-age=60 junk, public"},
			want: dir(func(d *Directives) { d.Invalid, d.Public = true, true })},
		{name: "9111 5.2 an unterminated quoted string swallows the rest of the line", lines: []string{`no-cache="Set-Cookie, max-age=5`},
			want: dir(func(d *Directives) { d.NoCache = true })},
		{name: "9110 5.6.1 empty list members are ignored", lines: []string{" , ,max-age=5,, ,"},
			want: dir(func(d *Directives) { d.MaxAge = 5 })},
		{name: "9111 5.2 whitespace around the equals sign is tolerated", lines: []string{"max-age = 60"},
			want: dir(func(d *Directives) { d.MaxAge = 60 })},
		{name: "9111 5.2 a stray character is skipped to the next comma", lines: []string{"@@@, max-age=5, =7"},
			want: dir(func(d *Directives) { d.MaxAge = 5 })},
		{name: "5861 3 and 4 stale extensions", lines: []string{"max-age=600, stale-while-revalidate=30, stale-if-error=1200"},
			want: dir(func(d *Directives) { d.MaxAge, d.StaleWhileRevalidate, d.StaleIfError = 600, 30, 1200 })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cc(tt.lines...); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseCacheControl(%q)\n got %+v\nwant %+v", tt.lines, got, tt.want)
			}
		})
	}
}

func TestRequestDirectives(t *testing.T) {
	tests := []struct {
		name        string
		h           http.Header
		wantNoCache bool
		wantMaxAge  int64
	}{
		{name: "9111 5.4 Pragma no-cache without Cache-Control counts as no-cache", h: hdr("Pragma", "no-cache"), wantNoCache: true, wantMaxAge: -1},
		{name: "9111 5.4 Pragma no-cache is found in a list, case-insensitively", h: hdr("Pragma", "foo, No-Cache"), wantNoCache: true, wantMaxAge: -1},
		{name: "9111 5.4 Pragma is ignored when Cache-Control is present", h: hdr("Pragma", "no-cache", "Cache-Control", "max-age=5"), wantMaxAge: 5},
		{name: "9111 5.4 a Pragma extension is not no-cache", h: hdr("Pragma", "x=no-cache"), wantMaxAge: -1},
		{name: "9111 5.2.1.4 request no-cache", h: hdr("Cache-Control", "no-cache"), wantNoCache: true, wantMaxAge: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := RequestDirectives(tt.h)
			if d.NoCache != tt.wantNoCache || d.MaxAge != tt.wantMaxAge {
				t.Errorf("RequestDirectives(%v) = no-cache %v max-age %d, want %v %d", tt.h, d.NoCache, d.MaxAge, tt.wantNoCache, tt.wantMaxAge)
			}
		})
	}
}

func TestParseSurrogateControl(t *testing.T) {
	tests := []struct {
		name        string
		lines       []string
		wantMaxAge  int64
		wantNoStore bool
	}{
		{name: "edge-arch no Surrogate-Control", wantMaxAge: -1},
		{name: "edge-arch max-age", lines: []string{"max-age=3600"}, wantMaxAge: 3600},
		{name: "edge-arch max-age freshness extension is ignored", lines: []string{"max-age=60+30"}, wantMaxAge: 60},
		{name: "edge-arch directives targeted at other surrogates do not apply", lines: []string{"max-age=60;edge1, no-store;edge2"}, wantMaxAge: -1},
		{name: "edge-arch no-store", lines: []string{`content="ESI/1.0", no-store`}, wantMaxAge: -1, wantNoStore: true},
		{name: "edge-arch no-store-remote does not apply to a surrogate next to the origin", lines: []string{"no-store-remote"}, wantMaxAge: -1},
		{name: "edge-arch malformed max-age counts as zero", lines: []string{"max-age=soon"}, wantMaxAge: 0},
		{name: "edge-arch several max-age keep the smallest", lines: []string{"max-age=600", "MAX-AGE=60"}, wantMaxAge: 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, l := range tt.lines {
				h.Add("Surrogate-Control", l)
			}
			maxAge, noStore := ParseSurrogateControl(h)
			if maxAge != tt.wantMaxAge || noStore != tt.wantNoStore {
				t.Errorf("ParseSurrogateControl(%q) = %d, %v; want %d, %v", tt.lines, maxAge, noStore, tt.wantMaxAge, tt.wantNoStore)
			}
		})
	}
}

func TestApplySurrogate(t *testing.T) {
	tests := []struct {
		name string
		h    http.Header
		want Directives
	}{
		{name: "edge-arch without Surrogate-Control Cache-Control governs", h: hdr("Cache-Control", "max-age=60, s-maxage=30"),
			want: dir(func(d *Directives) { d.MaxAge, d.SMaxAge = 60, 30 })},
		{name: "edge-arch Surrogate-Control max-age overrides Cache-Control freshness", h: hdr("Cache-Control", "max-age=0, s-maxage=abc", "Surrogate-Control", "max-age=86400"),
			want: dir(func(d *Directives) { d.MaxAge, d.ProxyRevalidate = 86400, true })},
		{name: "edge-arch Surrogate-Control keeps the revalidation s-maxage asked for", h: hdr("Cache-Control", "s-maxage=5", "Surrogate-Control", "max-age=60"),
			want: dir(func(d *Directives) { d.MaxAge, d.ProxyRevalidate = 60, true })},
		{name: "edge-arch Surrogate-Control leaves Cache-Control restrictions in force", h: hdr("Cache-Control", "no-cache, private", "Surrogate-Control", "max-age=60"),
			want: dir(func(d *Directives) { d.MaxAge, d.NoCache, d.Private = 60, true, true })},
		{name: "edge-arch Surrogate-Control no-store adds to Cache-Control", h: hdr("Cache-Control", "max-age=60", "Surrogate-Control", "no-store"),
			want: dir(func(d *Directives) { d.MaxAge, d.NoStore = 60, true })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ApplySurrogate(ParseCacheControl(tt.h), tt.h); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ApplySurrogate\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDirectivesString(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "typical response", in: "Public, max-age=3600, stale-while-revalidate=60", want: "public, max-age=3600, stale-while-revalidate=60"},
		{name: "9111 5.2.2.4 qualified forms are written quoted", in: "no-cache=set-cookie, private", want: `private, no-cache="Set-Cookie"`},
		{name: "request directives", in: "max-stale, min-fresh=5, only-if-cached", want: "only-if-cached, min-fresh=5, max-stale"},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := cc(tt.in)
			got := d.String()
			if got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			if back := cc(got); !reflect.DeepEqual(back, d) {
				t.Errorf("round trip: %+v, want %+v", back, d)
			}
		})
	}
}

// The parser must not allocate for the directives a typical response
// carries (STYLE.md principle 9: the hot path is sacred).
func TestParseCacheControlDoesNotAllocate(t *testing.T) {
	for _, v := range []string{
		"public, max-age=3600, stale-while-revalidate=60",
		"private, no-cache, max-stale, min-fresh=1",
		"no-store, must-revalidate, s-maxage=10, immutable",
	} {
		h := hdr("Cache-Control", v)
		if n := testing.AllocsPerRun(100, func() { _ = ParseCacheControl(h) }); n != 0 {
			t.Errorf("ParseCacheControl(%q) allocates %.0f times", v, n)
		}
	}
}

func BenchmarkParseCacheControl(b *testing.B) {
	h := hdr("Cache-Control", "public, max-age=3600, stale-while-revalidate=60")
	b.ReportAllocs()
	for b.Loop() {
		_ = ParseCacheControl(h)
	}
}
