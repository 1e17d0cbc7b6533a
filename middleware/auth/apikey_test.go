package auth

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzStripQuery: after StripURL no parameter of the key's name is left,
// every other parameter is kept as it was sent, in order.
func FuzzStripQuery(f *testing.F) {
	f.Add("a=1&api_key=secret&b=2")
	f.Add("api%5Fkey=x&api_key&&c")
	f.Fuzz(func(t *testing.T, raw string) {
		a, _ := NewAPIKey(APIKeyOptions{Query: "api_key"})
		u := &url.URL{Path: "/", RawQuery: raw}
		a.StripURL(u)
		var want []string
		for part := range strings.SplitSeq(raw, "&") {
			name, _, _ := strings.Cut(part, "=")
			if n, err := url.QueryUnescape(name); err != nil || n != "api_key" {
				want = append(want, part)
			}
		}
		if len(want) < len(strings.Split(raw, "&")) && u.RawQuery != strings.Join(want, "&") {
			t.Fatalf("StripURL(%q) = %q, want %q", raw, u.RawQuery, strings.Join(want, "&"))
		}
		if q, err := url.ParseQuery(u.RawQuery); err == nil && q.Has("api_key") {
			t.Fatalf("StripURL(%q) left the key: %q", raw, u.RawQuery)
		}
	})
}
