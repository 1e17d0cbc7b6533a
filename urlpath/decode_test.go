package urlpath

import "testing"

func TestDecode(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"no escapes", "/static/app.js", "/static/app.js", true},
		{"root", "/", "/", true},
		{"unicode", "/caf%C3%A9.txt", "/café.txt", true},
		{"space and percent", "/a%20b/100%25", "/a b/100%", true},
		{"trailing slash", "/dir%20x/", "/dir x/", true},
		{"encoded slash", "/a%2Fb", "", false},
		{"not normal: lower hex", "/caf%c3%a9", "", false},
		{"not normal: unreserved escape", "/%2E%2E/etc", "", false},
		{"not normal: dot dot", "/a/../b", "", false},
		{"not normal: relative", "a", "", false},
		{"not normal: NUL", "/a%00", "", false},
		{"not normal: empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Decode(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("Decode(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestDecodeAllocs(t *testing.T) {
	for in, want := range map[string]float64{"/static/app.js": 0, "/caf%C3%A9.txt": 1} {
		if got := testing.AllocsPerRun(100, func() { Decode(in) }); got != want {
			t.Errorf("Decode(%q) allocs = %v, want %v", in, got, want)
		}
	}
}

func TestEscapeRaw(t *testing.T) {
	for in, want := range map[string]string{
		"/a/b%2Fc":      "/a/b%2Fc",
		`/\evil.com/x`:  "/%5Cevil.com/x",
		"/a|b{c}\"d":    "/a%7Cb%7Bc%7D%22d",
		"/caf\xc3\xa9":  "/caf%C3%A9",
		"/ok-._~!$&'()": "/ok-._~!$&'()",
	} {
		if got := EscapeRaw(in); got != want {
			t.Errorf("EscapeRaw(%q) = %q, want %q", in, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { EscapeRaw("/plain/path") }); n != 0 {
		t.Errorf("EscapeRaw of a plain path allocates %v times", n)
	}
}
