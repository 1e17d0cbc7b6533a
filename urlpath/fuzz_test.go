package urlpath

import (
	"strings"
	"testing"
)

// FuzzNormalize checks that Normalize never panics, agrees with the
// reference implementation, and returns only normal, idempotent paths that
// Decode accepts unless they hold an encoded slash.
func FuzzNormalize(f *testing.F) {
	for _, tt := range normalizeTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, ok := Normalize(in)
		want, wantOK := referenceNormalize(in)
		if got != want || ok != wantOK {
			t.Fatalf("Normalize(%q) = %q, %v; reference says %q, %v", in, got, ok, want, wantOK)
		}
		if !ok {
			return
		}
		checkNormal(t, in, got)
		dec, ok := Decode(got)
		if ok == strings.Contains(got, "%2F") {
			t.Fatalf("Decode(%q) = %q, %v", got, dec, ok)
		}
	})
}
