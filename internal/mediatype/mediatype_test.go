package mediatype

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for s, want := range map[string]string{ // pattern → "" when valid, else a piece of the error
		"application/json": "", "Text/HTML": "", "text/*": "", "application/*+json": "", "*/*+xml": "", "*/*": "",
		"json": "not a media type", "text/html; charset=utf-8": "not a media type", "a/b/c": "not a media type",
		"/json": "not a media type", "text/": "not a media type", "*/json": "a type of *",
		"text/x*": "subtype pattern", "text/*+": "subtype pattern", "text/*+js*": "subtype pattern",
	} {
		_, err := Parse(s)
		switch {
		case want == "" && err != nil:
			t.Errorf("Parse(%q): %v", s, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("Parse(%q) = %v, want an error saying %q", s, err, want)
		}
	}
}

func TestMatches(t *testing.T) {
	for _, tc := range []struct {
		pattern, ct string
		want        bool
	}{
		{"text/*", "text/css; charset=utf-8", true},
		{"text/*", " TEXT/Plain ", true},
		{"text/*", "application/json", false},
		{"application/json", "Application/JSON;v=1", true},
		{"application/json", "application/json-seq", false},
		{"application/*+json", "application/problem+json", true},
		{"application/*+json", "application/+json", false}, // the suffix needs a name before it
		{"application/*+json", "application/json", false},
		{"*/*+xml", "image/svg+xml", true},
		{"*/*", "image/png", true},
		{"*/*", "", false},
		{"*/*", "garbage", false},
	} {
		p, err := Parse(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		typ, sub, ok := Split(tc.ct)
		if got := ok && p.Matches(typ, sub); got != tc.want {
			t.Errorf("%q matches %q = %v, want %v", tc.pattern, tc.ct, got, tc.want)
		}
	}
}

// FuzzParse: whatever Parse accepts is lower-case type/subtype whose
// pattern matches itself when it names one media type exactly.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"text/*", "application/*+json", "*/*", "a/b", "*/x", "text/x*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		typ, sub, ok := strings.Cut(s, "/")
		if !ok {
			t.Fatalf("Parse(%q) accepted a pattern without /", s)
		}
		if !strings.Contains(s, "*") && !p.Matches(typ, sub) {
			t.Fatalf("Parse(%q) does not match itself", s)
		}
	})
}
