package ratelimit

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

func TestParseKey(t *testing.T) {
	for _, s := range []string{"client_ip", "route", "header:X-API-Key", "cookie:s", "query:k", "client_ip+header:X-Tenant"} {
		if _, err := ParseKey(s, 32, 64); err != nil {
			t.Errorf("ParseKey(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "ip", "header:", "header", "jwt:sub", "client_ip+"} {
		if _, err := ParseKey(s, 32, 64); err == nil {
			t.Errorf("ParseKey(%q) accepted it", s)
		}
	}
}

func request(ip, hdr, cookie, query string) (*http.Request, *reqinfo.Info) {
	r := httptest.NewRequest(http.MethodGet, "/?k="+url.QueryEscape(query), nil)
	if hdr != "" {
		r.Header.Set("X-Key", hdr)
	}
	if cookie != "" {
		r.Header.Set("Cookie", "s="+cookie)
	}
	_, info := reqinfo.NewContext(r.Context())
	info.ClientIP, _ = netip.ParseAddr(ip)
	return r, info
}

func TestKeyValue(t *testing.T) {
	k, _ := ParseKey("client_ip+header:x-key+cookie:s+query:k", 24, 48)
	a, _ := k.value(request("192.0.2.1", "h", "c", "q"))
	b, _ := k.value(request("192.0.2.200", "h", "c", "q"))
	if a != b {
		t.Error("two addresses of one /24 are different clients")
	}
	c, _ := k.value(request("192.0.3.1", "h", "c", "q"))
	if a == c {
		t.Error("addresses of two /24s are one client")
	}
	d, _ := k.value(request("2001:db8:0:0:1::1", "h", "c", "q"))
	e, _ := k.value(request("2001:db8:0:1::1", "h", "c", "q"))
	f, _ := k.value(request("2001:db8:1::1", "h", "c", "q"))
	if d != e || d == f {
		t.Error("IPv6 addresses are not grouped by their /48")
	}
	if _, ok := k.value(request("192.0.2.1", "", "c", "q")); ok {
		t.Error("a missing header is not reported")
	}
	if _, ok := k.value(request("192.0.2.1", "h", "c", "")); ok {
		t.Error("a missing query parameter is not reported")
	}
}

// FuzzKeyValue: distinct values of a combined key's parts never name one
// bucket, however the values are chosen (a query value may hold any byte).
func FuzzKeyValue(f *testing.F) {
	f.Add("a", "b", "a\x00", "b")
	f.Add("x", "", "", "x")
	f.Fuzz(func(t *testing.T, h1, q1, h2, q2 string) {
		if h1 == h2 && q1 == q2 {
			return
		}
		k, _ := ParseKey("header:X-Key+query:k", 32, 64)
		r1, i1 := request("192.0.2.1", h1, "", q1)
		r2, i2 := request("192.0.2.1", h2, "", q2)
		if r1.Header.Get("X-Key") != h1 || r2.Header.Get("X-Key") != h2 {
			return // not a header value a client can send
		}
		v1, _ := k.value(r1, i1)
		v2, _ := k.value(r2, i2)
		if v1 == v2 {
			t.Fatalf("(%q, %q) and (%q, %q) share the bucket %q", h1, q1, h2, q2, v1)
		}
	})
}
