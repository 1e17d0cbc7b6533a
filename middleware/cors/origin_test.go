package cors

import (
	"net/url"
	"strings"
	"testing"
)

func TestParseOrigin(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" for not an origin
	}{
		{"https://a.example.com", "https://a.example.com"},
		{"HTTPS://A.Example.COM", "https://a.example.com"},
		{"https://a.example.com:443", "https://a.example.com"},
		{"http://a.example.com:80", "http://a.example.com"},
		{"http://a.example.com:443", "http://a.example.com:443"},
		{"https://a.example.com:8443", "https://a.example.com:8443"},
		{"wss://a.example.com:443", "wss://a.example.com"},
		{"http://localhost:3000", "http://localhost:3000"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"http://[FE80::1]", "http://[fe80::1]"},
		{"chrome-extension://abcdefghijklmnop", "chrome-extension://abcdefghijklmnop"},
		{"https://under_score.example", "https://under_score.example"},
		{"https://a.example.com:65535", "https://a.example.com:65535"},
		{"", ""},
		{"null", ""},
		{"https://", ""},
		{"https://a.example.com/", ""},
		{"https://a.example.com/path", ""},
		{"https://a.example.com?q", ""},
		{"https://a.example.com#f", ""},
		{"https://user@a.example.com", ""},
		{"https://a.example.com.", ""},
		{"https://.a.example.com", ""},
		{"https://a..example.com", ""},
		{"https://a.example.com:", ""},
		{"https://a.example.com:0443", ""},
		{"https://a.example.com:65536", ""},
		{"https://a.example.com:123456", ""},
		{"https://a.example.com:44x", ""},
		{"https://*.example.com", ""},
		{"https://a.example.com, https://b.example.com", ""},
		{"https://a b.example.com", ""},
		{"https://ä.example.com", ""},
		{"https://[::1", ""},
		{"https://[]", ""},
		{"https://[::1]x", ""},
		{"https://[g::1]", ""},
		{"1https://a.example.com", ""},
		{"://a.example.com", ""},
		{"a.example.com", ""},
		{"https://" + strings.Repeat("a", maxOrigin), ""},
	} {
		p, ok := parseOrigin(tc.in)
		if ok != (tc.want != "") || p.s != tc.want {
			t.Errorf("parseOrigin(%q) = %q, %v; want %q", tc.in, p.s, ok, tc.want)
			continue
		}
		if ok && p.scheme+"://"+p.host+portPart(p.port) != p.s {
			t.Errorf("parseOrigin(%q): parts %q %q %q do not spell %q", tc.in, p.scheme, p.host, p.port, p.s)
		}
	}
}

func portPart(p string) string {
	if p == "" {
		return ""
	}
	return ":" + p
}

func TestMatch(t *testing.T) {
	m, err := compileOrigins([]string{
		"https://app.example.com",
		"http://localhost:3000",
		"https://*.example.net",
		"https://*.example.org:8443",
		`~^https://[a-z]+\.example\.io$`,
		`~^https://a\.example\.dev$|^https://b\.example\.dev$`,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		origin string
		want   bool
	}{
		{"https://app.example.com", true},
		{"https://APP.example.com", true},
		{"HTTPS://app.example.com:443", true},
		{"http://app.example.com", false},
		{"https://app.example.com:8443", false},
		{"https://app.example.com.evil.net", false},
		{"https://evil.app.example.com", false},
		{"https://app.example.com/", false},
		{"http://localhost:3000", true},
		{"http://localhost", false},
		{"http://localhost:3001", false},

		{"https://a.example.net", true},
		{"https://a.b.c.example.net", true},
		{"https://A.Example.NET", true},
		{"https://a.example.net:443", true},
		{"https://example.net", false},
		{"https://.example.net", false},
		{"https://evil-example.net", false},
		{"https://a.evil-example.net", false},
		{"https://example.net.evil.com", false},
		{"https://a.example.net.evil.com", false},
		{"http://a.example.net", false},
		{"https://a.example.net:8443", false},
		{"https://a.example.org:8443", true},
		{"https://a.example.org", false},

		{"https://abc.example.io", true},
		{"https://ABC.example.io", true}, // matched in serialized (lower) form
		{"https://a1.example.io", false},
		{"https://abc.example.io.evil.net", false},
		{"https://x.abc.example.io", false},
		{"https://a.example.dev", true},
		{"https://b.example.dev", true},
		{"https://a.example.dev.evil.net", false}, // ^a|b$ is anchored at both ends
		{"https://evil.b.example.dev", false},

		{"null", false},
		{"", false},
		{"https://app.example.com, https://evil.net", false},
	} {
		if got := m.match(tc.origin); got != tc.want {
			t.Errorf("match(%q) = %v, want %v", tc.origin, got, tc.want)
		}
	}
}

func TestCompileOriginsRefuses(t *testing.T) {
	for _, tc := range []struct {
		patterns []string
		want     string
	}{
		{nil, "empty"},
		{[]string{"*", "https://a.example.com"}, "alone"},
		{[]string{"null"}, "null"},
		{[]string{"https://a.example.com/"}, "not an origin"},
		{[]string{"a.example.com"}, "not an origin"},
		{[]string{"https://a.example.com/app"}, "not an origin"},
		{[]string{"https://*"}, "not an origin"},
		{[]string{"https://*.*.example.com"}, "wildcard"},
		{[]string{"https://a*.example.com"}, "not an origin"},
		{[]string{"https://*.com"}, "top-level"},
		{[]string{"https://*.10.0.0.1"}, "IP address"},
		{[]string{"https://*.[::1]"}, "wildcard"},
		{[]string{`~https://a\.example\.com`}, "anchored"},
		{[]string{`~^https://a\.example\.com`}, "anchored"},
		{[]string{`~^https://a\.example\.com\$`}, "anchored"},
		{[]string{`~^https://(a\.example\.com$`}, "missing closing )"},
	} {
		if _, err := compileOrigins(tc.patterns); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("compileOrigins(%q) = %v, want an error saying %q", tc.patterns, err, tc.want)
		}
	}
	for _, ok := range [][]string{
		{"*"}, {"http://*.localhost:3000"}, {`~^https://a\.example\.com\\$`}, {"https://*.co.uk"},
	} {
		if _, err := compileOrigins(ok); err != nil {
			t.Errorf("compileOrigins(%q): %v", ok, err)
		}
	}
}

// refNorm is the reference for exact patterns: a serialized origin in
// ASCII lower case without the default port, by plain string edits.
func refNorm(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	s = string(b)
	for _, d := range []struct{ scheme, port string }{
		{"http://", ":80"}, {"https://", ":443"}, {"ws://", ":80"}, {"wss://", ":443"}, {"ftp://", ":21"},
	} {
		if strings.HasPrefix(s, d.scheme) && strings.HasSuffix(s, d.port) {
			return strings.TrimSuffix(s, d.port)
		}
	}
	return s
}

// FuzzOriginMatch checks the matcher against properties that do not use
// its parser:
//   - an exact pattern matches exactly the origins equal to it after
//     ASCII case folding and dropping the default port;
//   - a wildcard matches only origins that net/url reads as that scheme,
//     no path, query, user or fragment, the pattern's port, and a host
//     ending in "." + the suffix with something before it; and every
//     "https://label.suffix" with a valid label matches;
//   - the regular expressions see only the serialized form;
//   - nothing panics.
func FuzzOriginMatch(f *testing.F) {
	for _, s := range [][3]string{
		{"https://a.example.com", "https://A.example.com:443", "example.com"},
		{"http://localhost:3000", "http://localhost:3000", "localhost"},
		{"https://a.example.com", "https://evil-example.com", "example.com"},
		{"https://[::1]:8443", "https://[::1]:8443", "b.example.com"},
		{"null", "null", "com"},
		{"https://a.example.com:0443", "https://a.example.com:0443", "a.b"},
		{"ws://a.example.com:80", "ws://a.example.com", "x.y.z"},
		{"*", "https://a.example.com/", "example.com:443"},
		{"~^https://a$", "https://a", "*.example.com"},
		{"https://a.example.com", "https://\u212a.example.com", "example.com"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	re, err := compileOrigins([]string{`~^https://[a-z]+\.example\.org$`})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, pattern, o, suffix string) {
		// Exact.
		if m, err := compileOrigins([]string{pattern}); err == nil {
			got := m.match(o) // any pattern, any origin: no panic
			if len(m.exact) == 1 && got != (refNorm(pattern) == refNorm(o)) {
				t.Fatalf("pattern %q, origin %q: match %v, reference %v", pattern, o, got, !got)
			}
		}

		// Wildcard.
		if w, err := compileOrigins([]string{"https://*." + suffix}); err == nil {
			wc := w.wild[0]
			if w.match(o) {
				u, err := url.Parse(o)
				if err != nil {
					t.Fatalf("*.%s matched %q, which net/url refuses: %v", suffix, o, err)
				}
				host := refNorm(u.Hostname())
				port := u.Port()
				if port == "443" {
					port = ""
				}
				if refNorm(u.Scheme) != "https" || u.Opaque != "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" ||
					strings.HasSuffix(o, "?") || strings.HasSuffix(o, "#") ||
					port != wc.port || !strings.HasSuffix(host, wc.suffix) || len(host) <= len(wc.suffix) || strings.HasSuffix(host, "."+wc.suffix) {
					t.Fatalf("*.%s matched %q (host %q, port %q)", suffix, o, host, u.Port())
				}
			}
			if label, _, _ := strings.Cut(o, "."); validHostName(label) {
				full := "https://" + label + wc.suffix + portPart(wc.port)
				// An origin over maxOrigin bytes is never matched, by design.
				if len(full) <= maxOrigin && !w.match(full) {
					t.Fatalf("*.%s does not match %q", suffix, full)
				}
			}
		}

		// Regular expression: a match is the serialized form of a
		// matching origin.
		if re.match(o) {
			p, _ := parseOrigin(o)
			lower := refNorm(o)
			if p.s != lower || !strings.HasPrefix(lower, "https://") || !strings.HasSuffix(lower, ".example.org") {
				t.Fatalf("regexp matched %q (serialized %q)", o, p.s)
			}
		}
	})
}
