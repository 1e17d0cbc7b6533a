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

func TestParseHashKey(t *testing.T) {
	tests := []struct {
		in   string
		want hashKey
		err  bool
	}{
		{"", hashKey{kind: keyClientIP}, false},
		{"client_ip", hashKey{kind: keyClientIP}, false},
		{"header:x-user-id", hashKey{kind: keyHeader, name: "X-User-Id"}, false},
		{"cookie:Session", hashKey{kind: keyCookie, name: "Session"}, false},
		{"cookie:", hashKey{}, true},
		{"ip", hashKey{}, true},
	}
	for _, tt := range tests {
		got, err := parseHashKey(tt.in)
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("%q: got %+v, %v", tt.in, got, err)
		}
	}
}

func TestParseStatusSet(t *testing.T) {
	tests := []struct {
		in       string
		has, not []int
		err      bool
	}{
		{in: "200-399", has: []int{200, 301, 399}, not: []int{199, 400, 500}},
		{in: "200,204", has: []int{200, 204}, not: []int{201, 203}},
		{in: " 200 , 300-302 ", has: []int{200, 300, 302}, not: []int{303}},
		{in: "100-599", has: []int{100, 599}, not: []int{99, 600}},
		{in: "", err: true},
		{in: "2xx", err: true},
		{in: "399-200", err: true},
		{in: "200,", err: true},
		{in: "99", err: true},
		{in: "200-600", err: true},
	}
	for _, tt := range tests {
		s, err := parseStatusSet(tt.in)
		if (err != nil) != tt.err {
			t.Errorf("%q: err %v", tt.in, err)
			continue
		}
		for _, c := range tt.has {
			if !s.has(c) {
				t.Errorf("%q lacks %d", tt.in, c)
			}
		}
		for _, c := range tt.not {
			if s.has(c) {
				t.Errorf("%q has %d", tt.in, c)
			}
		}
	}
}
