package proxy

import (
	"net/http"
	"net/url"
	"testing"
)

func TestRequestPath(t *testing.T) {
	for _, tt := range []struct{ uri, want string }{
		{"/a/b?x=1", "/a/b"},
		{"/public/|/..%2F..%2Fadmin", "/public/|/..%2F..%2Fadmin"},
		{"/search?", "/search"},
		{"/caf%C3%A9", "/caf%C3%A9"},
		{"http://example.com/p%2Fq?x", "/p%2Fq"},
		{"http://example.com", "/"},
		{"http://example.com?q=1", "/"},
	} {
		u, err := url.ParseRequestURI(tt.uri)
		if err != nil {
			t.Fatal(err)
		}
		r := &http.Request{RequestURI: tt.uri, URL: u}
		if got := RequestPath(r); got != tt.want {
			t.Errorf("RequestPath(%q) = %q, want %q", tt.uri, got, tt.want)
		}
	}
}

// TestSetTargetPath: what the request line will carry, via the same
// URL.RequestURI net/http's client uses to write it.
func TestSetTargetPath(t *testing.T) {
	for _, tt := range []struct{ path, query, want string }{
		{"/a|b", "", "/a|b"},
		{"/public/|/..%2F..%2Fadmin", "", "/public/|/..%2F..%2Fadmin"},
		{"/q/{id}", "x=1", "/q/{id}?x=1"},
		{"//x|y/%2F", "", "//x%7Cy/%2F"},
		{"//a", "", "//a"},
	} {
		u := &url.URL{Scheme: "http", Host: "target:80", RawQuery: tt.query}
		setTargetPath(u, tt.path)
		if got := u.RequestURI(); got != tt.want {
			t.Errorf("setTargetPath(%q): request target %q, want %q", tt.path, got, tt.want)
		}
	}
}
