package headers

import (
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/config"
)

// placeholderRE is the placeholder syntax as the HeaderOps doc states it,
// the reference parse checks against.
var placeholderRE = regexp.MustCompile(`\{([a-z0-9_]+)\}`)

// FuzzCompileValue checks parse against the reference: an error exactly
// when some {lower_name} is not in config.Placeholders(); otherwise segments that spell the
// value again, with the placeholders the reference finds, in order, and
// an expansion that does not panic.
func FuzzCompileValue(f *testing.F) {
	for _, s := range []string{
		"", "plain", "{host}", "a{host}b{scheme}c", "{{client_ip}}", "{x{host}", "{}", "{Host}",
		"{nosuch}", "{tls_client_subject}", `{"a":1}`, "{host", "host}", "{9}", "{a_b}", "}{host}{",
		"{tls_version}/{tls_cipher}", "\xff{host}\x00",
	} {
		f.Add(s)
	}
	r := httptest.NewRequest("GET", "http://a.example/", nil)
	f.Fuzz(func(t *testing.T, v string) {
		var names, unknown []string
		for _, m := range placeholderRE.FindAllStringSubmatch(v, -1) {
			names = append(names, m[1])
			if !slices.Contains(config.Placeholders(), m[1]) {
				unknown = append(unknown, m[1])
			}
		}
		segs, err := parse(v)
		if (err != nil) != (len(unknown) > 0) {
			t.Fatalf("parse(%q): error %v, but unknown names are %q", v, err, unknown)
		}
		if err != nil {
			return
		}
		if (segs == nil) != (len(names) == 0) {
			t.Fatalf("parse(%q): %d segments for %d placeholders", v, len(segs), len(names))
		}
		var b strings.Builder
		var got []string
		for _, s := range segs {
			if s.get != nil {
				b.WriteString("{" + s.name + "}")
				got = append(got, s.name)
			} else {
				b.WriteString(s.lit)
			}
		}
		if segs != nil && b.String() != v {
			t.Fatalf("parse(%q) spells %q", v, b.String())
		}
		if !slices.Equal(got, names) {
			t.Fatalf("parse(%q): placeholders %q, want %q", v, got, names)
		}
		if segs != nil {
			_ = expand(segs, withFacts(r))
		}
	})
}
