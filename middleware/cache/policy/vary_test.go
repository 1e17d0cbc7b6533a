package policy

import (
	"net/http"
	"reflect"
	"testing"
)

func TestParseVary(t *testing.T) {
	tests := []struct {
		name      string
		h         http.Header
		wantNames []string
		wantStar  bool
	}{
		{name: "9111 4.1 no Vary: no selecting fields", h: hdr()},
		{name: "9110 12.5.5 field names are canonical, deduplicated and sorted", h: hdr("Vary", "accept-language, Accept-Encoding", "Vary", "ACCEPT-ENCODING, origin"),
			wantNames: []string{"Accept-Encoding", "Accept-Language", "Origin"}},
		{name: "9111 4.1 Vary: * always fails to match", h: hdr("Vary", "*"), wantStar: true},
		{name: "9111 4.1 a * member among names always fails to match", h: hdr("Vary", "Accept", "Vary", "*"), wantNames: []string{"Accept"}, wantStar: true},
		{name: "9111 4.1 an invalid Vary member is treated like *", h: hdr("Vary", "Accept, bad name"), wantNames: []string{"Accept"}, wantStar: true},
		{name: "9110 5.6.1 empty Vary members are ignored", h: hdr("Vary", ", Accept ,,"), wantNames: []string{"Accept"}},
		{name: "9110 5.6.1 an empty Vary value nominates nothing", h: hdr("Vary", "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names, star := ParseVary(tt.h)
			if !reflect.DeepEqual(names, tt.wantNames) || star != tt.wantStar {
				t.Errorf("ParseVary = %q, %v; want %q, %v", names, star, tt.wantNames, tt.wantStar)
			}
			if !star {
				if back, _ := ParseVary(hdr("Vary", FormatVary(names, star))); !reflect.DeepEqual(back, names) {
					t.Errorf("FormatVary round trip: %q, want %q", back, names)
				}
			}
		})
	}
}

func TestNormalizeValue(t *testing.T) {
	tests := []struct {
		name   string
		field  string
		values []string
		want   string
	}{
		{name: "9111 4.1 an absent field only matches an absent field", field: "Accept", values: nil, want: AbsentValue},
		{name: "9111 4.1 an empty field is present", field: "Accept", values: []string{""}, want: ""},
		{name: "9111 4.1 multiple field lines are combined", field: "Accept", values: []string{"text/html", "application/json"}, want: "text/html,application/json"},
		{name: "9111 4.1 whitespace around commas is removed", field: "Accept", values: []string{" text/html ,  application/json\t"}, want: "text/html,application/json"},
		{name: "9111 4.1 whitespace inside a member is kept", field: "User-Agent", values: []string{"Mozilla/5.0 (X11; Linux)"}, want: "Mozilla/5.0 (X11; Linux)"},
		{name: "9111 4.1 commas and spaces inside a quoted string are kept", field: "Accept", values: []string{`text/html;x="a, b" , text/plain`}, want: `text/html;x="a, b",text/plain`},
		{name: "9111 4.1 case is normalized where the field is case-insensitive: Accept-Encoding", field: "accept-encoding", values: []string{"GZip, BR;Q=0.5"}, want: "gzip,br;q=0.5"},
		{name: "9111 4.1 case is normalized where the field is case-insensitive: Accept-Language", field: "Accept-Language", values: []string{"en-US, FR"}, want: "en-us,fr"},
		{name: "9111 4.1 case is normalized where the field is case-insensitive: Accept-Charset", field: "Accept-Charset", values: []string{"UTF-8"}, want: "utf-8"},
		{name: "9111 4.1 case is kept for fields not defined case-insensitive", field: "Cookie", values: []string{"Session=ABC"}, want: "Session=ABC"},
		{name: "9111 4.1 members are not reordered", field: "Accept-Encoding", values: []string{"br, gzip"}, want: "br,gzip"},
		{name: "9111 4.1 empty members are dropped", field: "Accept-Encoding", values: []string{"gzip,,", ", br"}, want: "gzip,br"},
		{name: "9110 5.5 NUL, CR and LF become SP", field: "X-Id", values: []string{"a\x00b\rc\nd"}, want: "a b c d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalizeValue(tt.field, tt.values); got != tt.want {
				t.Errorf("NormalizeValue(%q, %q) = %q, want %q", tt.field, tt.values, got, tt.want)
			}
		})
	}
}

func TestVaryKey(t *testing.T) {
	names := []string{"Accept-Encoding", "Accept-Language"}
	tests := []struct {
		name  string
		a, b  http.Header
		match bool
	}{
		{name: "9111 4.1 the same nominated values match", a: hdr("Accept-Encoding", "gzip", "Accept-Language", "en"), b: hdr("Accept-Encoding", "gzip", "Accept-Language", "en", "Cookie", "x"), match: true},
		{name: "9111 4.1 values that normalize alike match", a: hdr("Accept-Encoding", "gzip, br"), b: hdr("Accept-Encoding", "GZIP", "Accept-Encoding", "br"), match: true},
		{name: "9111 4.1 different nominated values do not match", a: hdr("Accept-Encoding", "gzip"), b: hdr("Accept-Encoding", "br")},
		{name: "9111 4.1 absent does not match empty", a: hdr(), b: hdr("Accept-Encoding", "")},
		{name: "9111 4.1 absent matches absent", a: hdr("Cookie", "a"), b: hdr("Cookie", "b"), match: true},
		{name: "9111 4.1 a value cannot forge another field's line", a: hdr("Accept-Encoding", "gzip\nAccept-Language:en"), b: hdr("Accept-Encoding", "gzip", "Accept-Language", "en")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := VaryKey(names, tt.a), VaryKey(names, tt.b)
			if (ka == kb) != tt.match {
				t.Errorf("VaryKey: %q vs %q, match %v, want %v", ka, kb, ka == kb, tt.match)
			}
		})
	}
	t.Run("9111 4.1 without Vary the secondary key is empty", func(t *testing.T) {
		if k := VaryKey(nil, hdr("Accept", "x")); k != "" {
			t.Errorf("VaryKey(nil) = %q", k)
		}
	})
}

func TestNormalizeValueKeepsBytes(t *testing.T) {
	t.Run("9111 4.1 bytes that are not UTF-8 are kept apart", func(t *testing.T) {
		a := NormalizeValue("X-Id", []string{"\xff\x00"})
		b := NormalizeValue("X-Id", []string{"\xfe\x00"})
		if a == b || a != "\xff" {
			t.Errorf("NormalizeValue: %q and %q", a, b)
		}
	})
}

// FuzzNormalizeFastPath holds the single-value shortcut of NormalizeValue
// to what the general path makes of the same value (an empty second line
// adds nothing, and forces the general path).
func FuzzNormalizeFastPath(f *testing.F) {
	f.Add("Accept-Encoding", "gzip,br")
	f.Add("Accept-Language", "EN-us")
	f.Add("X-Thing", "a,,b")
	f.Fuzz(func(t *testing.T, name, v string) {
		fast := NormalizeValue(name, []string{v})
		slow := NormalizeValue(name, []string{v, ""})
		if fast != slow {
			t.Fatalf("NormalizeValue(%q, %q) = %q, the general path gives %q", name, v, fast, slow)
		}
	})
}
