package enginetest

import (
	"net/http"
	"testing"
)

// The request as the handler gets it: routing and forwarding use the raw
// request target (net/http's parsed URL may re-encode a path), the
// access log and client IP resolution use RemoteAddr.
var targetContracts = []contract{
	{"RequestURI/RawTargetByteForByte", requestURI},
	{"Request/FieldsSet", requestFields},
}

// requestURI: r.RequestURI is the request target exactly as sent, and an
// absolute-form target's authority is r.Host (RFC 9112, section 3.2.2).
// ("OPTIONS *" is not here: net/http answers it itself, without the
// handler, and nothing in Gatehouse relies on either way.)
func requestURI(t *testing.T, start Start) {
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Uri", r.RequestURI)
		w.Header().Set("X-Host", r.Host)
		w.WriteHeader(http.StatusNoContent)
	}))
	for _, tc := range []struct {
		method, target, host string
	}{
		{"GET", "/a%2Fb", "example.test"},
		{"GET", "//a", "example.test"},
		{"GET", "/a?b=%20", "example.test"},
		{"GET", "/a/../b/./c", "example.test"},
		{"GET", "/%7Euser/%E2%82%AC;p=1", "example.test"},
		{"GET", "/search?q=a+b&x=%2F&&y", "example.test"},
		{"GET", "/?", "example.test"},
		{"GET", "http://other.test/x?y=%2F", "other.test"},
		{"GET", "http://other.test:8080", "other.test:8080"},
	} {
		c := dial(t, addr)
		c.send(tc.method + " " + tc.target + " HTTP/1.1\nHost: example.test\n\n")
		res, _ := c.response(tc.method)
		if res.StatusCode != http.StatusNoContent {
			t.Errorf("%s %s: status %d, want the handler's 204", tc.method, tc.target, res.StatusCode)
			continue
		}
		if got := res.Header.Get("X-Request-Uri"); got != tc.target {
			t.Errorf("%s %s: RequestURI %q", tc.method, tc.target, got)
		}
		if got := res.Header.Get("X-Host"); got != tc.host {
			t.Errorf("%s %s: Host %q, want %q", tc.method, tc.target, got, tc.host)
		}
	}
}

// requestFields: RemoteAddr is the client's address as the socket sees
// it, the protocol is HTTP/1.1, Host is the header's, TLS is nil on a
// plaintext connection, and Body is never nil.
func requestFields(t *testing.T, start Start) {
	// The handler copies what it saw: the engine owns the request once
	// the handler has returned.
	type seen struct {
		remote, proto, host, method, path, xa string
		major, minor                          int
		tls, nilBody                          bool
		length                                int64
	}
	got := make(chan seen, 1)
	addr := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.RemoteAddr, r.Proto, r.Host, r.Method, r.URL.Path, r.Header.Get("X-A"),
			r.ProtoMajor, r.ProtoMinor, r.TLS != nil, r.Body == nil, r.ContentLength}
	}))
	c := dial(t, addr)
	c.send("GET /x HTTP/1.1\nHost: example.test\nX-A: 1\n\n")
	if res, _ := c.response("GET"); res.StatusCode != 200 {
		t.Errorf("status %d, want 200", res.StatusCode)
	}
	r := await(t, got, "the request")
	if want := c.LocalAddr().String(); r.remote != want {
		t.Errorf("RemoteAddr %q, want the client's %q", r.remote, want)
	}
	if r.proto != "HTTP/1.1" || r.major != 1 || r.minor != 1 {
		t.Errorf("protocol %q %d.%d, want HTTP/1.1", r.proto, r.major, r.minor)
	}
	if r.host != "example.test" || r.method != "GET" || r.path != "/x" || r.xa != "1" {
		t.Errorf("request %+v", r)
	}
	if r.tls {
		t.Error("TLS state set on a plaintext connection")
	}
	if r.nilBody || r.length != 0 {
		t.Errorf("Body nil %v, ContentLength %d; want a non-nil empty body", r.nilBody, r.length)
	}
}
