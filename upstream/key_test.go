package upstream

import (
	"net/http"
	"testing"
)

func TestCookieValue(t *testing.T) {
	tests := []struct {
		headers []string
		name    string
		want    string
		ok      bool
	}{
		{nil, "a", "", false},
		{[]string{"a=1"}, "a", "1", true},
		{[]string{"x=1; a=2; b=3"}, "a", "2", true},
		{[]string{"x=1;a=2"}, "a", "2", true},
		{[]string{" a = 2 ;"}, "a", "2", true},
		{[]string{`a="q v"`}, "a", "q v", true},
		{[]string{`a="`}, "a", `"`, true},
		{[]string{"ab=1; A=2"}, "a", "", false}, // names are case-sensitive and exact
		{[]string{"junk; a"}, "a", "", false},
		{[]string{"a="}, "a", "", true},
		{[]string{"x=1", "a=5"}, "a", "5", true}, // split over several headers (HTTP/2)
		{[]string{"a=1; a=2"}, "a", "1", true},
	}
	for _, tt := range tests {
		h := http.Header{"Cookie": tt.headers}
		got, ok := cookieValue(h, tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%q: got %q %v, want %q %v", tt.headers, got, ok, tt.want, tt.ok)
		}
	}
	h := http.Header{"Cookie": {"x=1; y=2; session=abc; z=3"}}
	if n := testing.AllocsPerRun(100, func() { cookieValue(h, "session") }); n != 0 {
		t.Errorf("cookieValue allocates %v times", n)
	}
}

// A header key is matched in canonical form, whatever its spelling in the
// Spec; a cookie name is exact.
func TestHashKeyCanonical(t *testing.T) {
	tests := []struct {
		in, want HashKey
	}{
		{HashKey{}, HashKey{Kind: KeyClientIP}},
		{HashKey{Kind: KeyHeader, Name: "x-user-id"}, HashKey{Kind: KeyHeader, Name: "X-User-Id"}},
		{HashKey{Kind: KeyCookie, Name: "Session"}, HashKey{Kind: KeyCookie, Name: "Session"}},
	}
	for _, tt := range tests {
		if got := newHash(nil, tt.in).key; got != tt.want {
			t.Errorf("%+v: got %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

// The pool's status sets (fail_status) are bitmaps over 100..599.
func TestStatusSet(t *testing.T) {
	var s statusSet
	for _, c := range []int{99, 100, 204, 502, 599, 600, -1, 1 << 20} {
		s.add(c)
	}
	for c, want := range map[int]bool{100: true, 204: true, 502: true, 599: true, 99: false, 600: false, 200: false, -1: false, 1 << 20: false} {
		if s.has(c) != want {
			t.Errorf("has(%d) = %v, want %v", c, !want, want)
		}
	}
}
