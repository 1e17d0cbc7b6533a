package urlpath

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"
)

var normalizeTests = []struct {
	name, in, want string
	ok             bool
}{
	{"root", "/", "/", true},
	{"plain", "/api/users", "/api/users", true},
	{"trailing slash kept", "/a/", "/a/", true},
	{"unreserved decoded", "/%61pi", "/api", true},
	{"all unreserved kinds", "/%41%7a%30%2D%2e%5F%7E", "/Az0-._~", true},
	{"reserved kept upper", "/a%3fb", "/a%3Fb", true},
	{"hex upper-cased", "/%3a%3B", "/%3A%3B", true},
	{"unicode escapes kept", "/caf%c3%a9", "/caf%C3%A9", true},
	{"unicode escapes already upper", "/caf%C3%A9", "/caf%C3%A9", true},
	{"percent escape kept", "/100%25", "/100%25", true},
	{"raw utf-8 kept", "/café", "/café", true},

	{"dot dot climbs", "/api/../admin", "/admin", true},
	{"encoded dot dot", "/api/%2e%2e/admin", "/admin", true},
	{"half encoded dot dot", "/api/.%2e/admin", "/admin", true},
	{"upper encoded dot dot", "/api/%2E%2E/admin", "/admin", true},
	{"dot", "/a/./b", "/a/b", true},
	{"encoded dot alone", "/%2e", "/", true},
	{"dot at root", "/.", "/", true},
	{"dot dot at root", "/..", "/", true},
	{"never above root", "/../a", "/a", true},
	{"far above root", "/../../../etc/passwd", "/etc/passwd", true},
	{"final dot keeps slash", "/a/.", "/a/", true},
	{"final dot dot keeps slash", "/a/b/..", "/a/", true},
	{"final dot dot to root", "/a/..", "/", true},
	{"dot dot then slash", "/a/b/../", "/a/", true},
	{"dots in names kept", "/a/.../b..c/.d", "/a/.../b..c/.d", true},
	{"encoded triple dot", "/%2e%2e%2e", "/...", true},

	{"double slash start", "//api", "/api", true},
	{"double slash inside", "/a//b", "/a/b", true},
	{"many slashes", "////", "/", true},
	{"double trailing slash", "/a//", "/a/", true},
	{"slash dot slash", "/a/./", "/a/", true},

	{"encoded slash is one segment", "/api%2F..%2Fadmin", "/api%2F..%2Fadmin", true},
	{"encoded slash lower", "/api%2f..%2fadmin", "/api%2F..%2Fadmin", true},
	{"encoded slash then dot dot", "/a%2Fb/..", "/", true},
	{"dot dot with encoded slash", "/..%2F", "/..%2F", true},

	{"empty", "", "", false},
	{"relative", "api", "", false},
	{"relative dot", "./a", "", false},
	{"absolute URL", "http://x/a", "", false},
	{"asterisk", "*", "", false},
	{"bad hex", "/%zz", "", false},
	{"short escape", "/%4", "", false},
	{"trailing percent", "/a%", "", false},
	{"escape across slash", "/%4/1", "", false},
	{"half bad hex", "/%4g", "", false},
	{"encoded NUL", "/a%00", "", false},
	{"raw NUL", "/a\x00", "", false},
	{"raw newline", "/a\nb", "", false},
	{"raw DEL", "/a\x7f", "", false},
	{"raw tab", "/\t", "", false},
	{"bad escape in removed segment", "/a/%zz/..", "", false},
	{"encoded control kept", "/a%0a", "/a%0A", true},
}

func TestNormalize(t *testing.T) {
	for _, tt := range normalizeTests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Normalize(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("Normalize(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
			if ok {
				checkNormal(t, tt.in, got)
			}
		})
	}
}

func TestNormalizeReturnsInputWhenNormal(t *testing.T) {
	for _, in := range []string{"/", "/api/users", "/a/", "/caf%C3%A9", "/api%2F..%2Fadmin", "/.a/..b/"} {
		got, ok := Normalize(in)
		if !ok || got != in || !sameData(got, in) {
			t.Errorf("Normalize(%q) = %q, %v; want the input itself", in, got, ok)
		}
	}
}

func TestNormalizeAllocs(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{
		{"/api/v1/users/12345/profile", 0},
		{"/api/v1/../v2/./users//%7ejo", 1},
		{"/" + strings.Repeat("a/../", 2000), 1},
	}
	for _, tt := range tests {
		got := testing.AllocsPerRun(100, func() { Normalize(tt.in) })
		if got != tt.want {
			t.Errorf("Normalize(%.30q...) allocs = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestNormalizeProperties checks, on random paths built from the pieces
// that matter, that Normalize agrees with a simple reference, is idempotent
// and returns only normal paths.
func TestNormalizeProperties(t *testing.T) {
	pieces := []string{"/", "/", "/", "a", "b", ".", "..", "%2e", "%2E", "%2f", "%2F",
		"%61", "%7e", "%c3%a9", "%", "%0", "%zz", "%00", "\x01", "~", "-", "é"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 50000 {
		var b strings.Builder
		if r.IntN(10) > 0 {
			b.WriteByte('/')
		}
		for range r.IntN(12) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		in := b.String()
		got, ok := Normalize(in)
		want, wantOK := referenceNormalize(in)
		if got != want || ok != wantOK {
			t.Fatalf("Normalize(%q) = %q, %v; reference says %q, %v", in, got, ok, want, wantOK)
		}
		if ok {
			checkNormal(t, in, got)
		}
	}
}

// checkNormal fails t unless norm, the result of Normalize(in), has the
// properties of a normal path.
func checkNormal(t *testing.T, in, norm string) {
	t.Helper()
	if !strings.HasPrefix(norm, "/") {
		t.Fatalf("Normalize(%q) = %q: no leading slash", in, norm)
	}
	for _, bad := range []string{"//", "/./", "/../"} {
		if strings.Contains(norm, bad) {
			t.Fatalf("Normalize(%q) = %q: contains %q", in, norm, bad)
		}
	}
	if strings.HasSuffix(norm, "/.") || strings.HasSuffix(norm, "/..") {
		t.Fatalf("Normalize(%q) = %q: ends in a dot segment", in, norm)
	}
	if again, ok := Normalize(norm); again != norm || !ok {
		t.Fatalf("Normalize(%q) = %q, but Normalize(%q) = %q, %v", in, norm, norm, again, ok)
	}
	if len(norm) > len(in) {
		t.Fatalf("Normalize(%q) = %q: longer than the input", in, norm)
	}
}

// referenceNormalize is a slow, obvious Normalize: decode each segment,
// then resolve dots with a stack.
func referenceNormalize(in string) (string, bool) {
	if !strings.HasPrefix(in, "/") {
		return "", false
	}
	segs := strings.Split(in[1:], "/")
	var stack []string
	for _, raw := range segs {
		seg, ok := referenceSegment(raw)
		if !ok {
			return "", false
		}
		switch seg {
		case "", ".":
		case "..":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		default:
			stack = append(stack, seg)
		}
	}
	out := "/" + strings.Join(stack, "/")
	last, _ := referenceSegment(segs[len(segs)-1])
	if len(stack) > 0 && (last == "" || last == "." || last == "..") {
		out += "/"
	}
	return out, true
}

func referenceSegment(raw string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c < 0x20 || c == 0x7f {
			return "", false
		}
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(raw) || !strings.ContainsRune("0123456789abcdefABCDEF", rune(raw[i+1])) ||
			!strings.ContainsRune("0123456789abcdefABCDEF", rune(raw[i+2])) {
			return "", false
		}
		esc := strings.ToUpper(raw[i : i+3])
		switch v := hexValue(esc[1])<<4 | hexValue(esc[2]); {
		case v == 0:
			return "", false
		case strings.ContainsRune("-._~", rune(v)) || 'a' <= v && v <= 'z' || 'A' <= v && v <= 'Z' || '0' <= v && v <= '9':
			b.WriteByte(v)
		default:
			b.WriteString(esc)
		}
		i += 2
	}
	return b.String(), true
}

func hexValue(c byte) byte {
	return byte(strings.IndexByte("0123456789ABCDEF", c))
}

// sameData reports whether a and b share their bytes, not just equal them.
func sameData(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}

func BenchmarkNormalize(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"normal", "/api/v1/users/12345/profile"},
		{"normal-escapes", "/files/caf%C3%A9/r%C3%A9sum%C3%A9.pdf"},
		{"dirty", "/api/v1/../v2/./users//%7ejo"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Normalize(bc.in)
			}
		})
	}
}
