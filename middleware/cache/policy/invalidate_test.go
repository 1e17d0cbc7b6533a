package policy

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"
)

func TestIsUnsafe(t *testing.T) {
	tests := []struct {
		name   string
		method string
		want   bool
	}{
		{"9110 9.2.1 GET is safe", "GET", false},
		{"9110 9.2.1 HEAD is safe", "HEAD", false},
		{"9110 9.2.1 OPTIONS is safe", "OPTIONS", false},
		{"9110 9.2.1 TRACE is safe", "TRACE", false},
		{"9110 9.2.1 POST is unsafe", "POST", true},
		{"9110 9.2.1 PUT is unsafe", "PUT", true},
		{"9110 9.2.1 DELETE is unsafe", "DELETE", true},
		{"9110 9.2.1 PATCH is unsafe", "PATCH", true},
		{"9111 4.4 a method whose safety is unknown is unsafe", "PURGE", true},
		{"9110 9.1 methods are case-sensitive: get is unknown, so unsafe", "get", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsUnsafe(tt.method); got != tt.want {
				t.Errorf("IsUnsafe(%q) = %v", tt.method, got)
			}
		})
	}
}

func TestInvalidationTargets(t *testing.T) {
	target, _ := url.Parse("https://Shop.Example:443/cart/items?id=7#frag")
	tests := []struct {
		name   string
		method string
		status int
		resp   http.Header
		want   []string
	}{
		{name: "9111 4.4 MUST invalidate the target URI after an unsafe request with a 2xx", method: "POST", status: 201, resp: hdr(),
			want: []string{"https://shop.example/cart/items?id=7"}},
		{name: "9111 4.4 a 3xx is a non-error status", method: "DELETE", status: 303, resp: hdr(),
			want: []string{"https://shop.example/cart/items?id=7"}},
		{name: "9111 4.4 no invalidation after an error status", method: "PUT", status: 500, resp: hdr("Location", "/cart")},
		{name: "9111 4.4 no invalidation after a 4xx", method: "PUT", status: 409, resp: hdr()},
		{name: "9111 4.4 no invalidation for a safe method", method: "GET", status: 200, resp: hdr()},
		{name: "9111 4.4 a method whose safety is unknown invalidates", method: "PURGE", status: 200, resp: hdr(),
			want: []string{"https://shop.example/cart/items?id=7"}},
		{name: "9111 4.4 MAY invalidate Location and Content-Location of the same origin", method: "POST", status: 201, resp: hdr("Location", "/cart/items/8", "Content-Location", "https://shop.example:443/cart"),
			want: []string{"https://shop.example/cart/items?id=7", "https://shop.example/cart/items/8", "https://shop.example/cart"}},
		{name: "9111 4.4 relative references resolve against the target", method: "POST", status: 200, resp: hdr("Location", "8?x=1"),
			want: []string{"https://shop.example/cart/items?id=7", "https://shop.example/cart/8?x=1"}},
		{name: "9111 4.4 MUST NOT invalidate a URI of another host", method: "POST", status: 201, resp: hdr("Location", "https://evil.example/cart"),
			want: []string{"https://shop.example/cart/items?id=7"}},
		{name: "9111 4.4 MUST NOT invalidate a URI of another scheme", method: "POST", status: 201, resp: hdr("Content-Location", "http://shop.example/cart"),
			want: []string{"https://shop.example/cart/items?id=7"}},
		{name: "9111 4.4 MUST NOT invalidate a URI of another port", method: "POST", status: 201, resp: hdr("Location", "https://shop.example:8443/cart"),
			want: []string{"https://shop.example/cart/items?id=7"}},
		{name: "9111 4.4 a Location equal to the target is listed once", method: "PUT", status: 204, resp: hdr("Location", "https://shop.example/cart/items?id=7"),
			want: []string{"https://shop.example/cart/items?id=7"}},
		{name: "9111 4.4 an unparsable Location is skipped", method: "PUT", status: 200, resp: hdr("Location", "http://[::1"),
			want: []string{"https://shop.example/cart/items?id=7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, u := range InvalidationTargets(tt.method, target, tt.status, tt.resp) {
				got = append(got, u.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("InvalidationTargets = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("9111 4.4 the target URL is not modified", func(t *testing.T) {
		before := *target
		InvalidationTargets("POST", target, 200, hdr("Location", "/x"))
		if *target != before {
			t.Errorf("target changed to %v", target)
		}
	})
	t.Run("9111 4.4 an empty path is the root", func(t *testing.T) {
		u, _ := url.Parse("http://a.example:80")
		got := InvalidationTargets("POST", u, 200, hdr())
		if len(got) != 1 || got[0].String() != "http://a.example/" {
			t.Errorf("InvalidationTargets = %v", got)
		}
	})
}
