package respond

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// pathOf returns a Redirect.Path that always yields p, standing in for the
// route's rewritten, escaped request path.
func pathOf(p string) func(*http.Request) string {
	return func(*http.Request) string { return p }
}

func TestRedirect(t *testing.T) {
	for _, c := range []struct {
		name   string
		h      Redirect
		target string // request target; its query is appended with Path
		want   string // Location
	}{
		{"to as is", Redirect{To: "https://example.com/new", Status: 302}, "/old/x?q=1", "https://example.com/new"},
		{"moved permanently", Redirect{To: "https://example.com/new", Status: 301}, "/old", "https://example.com/new"},
		{"temporary keeps method", Redirect{To: "/new", Status: 307}, "/old", "/new"},
		{"permanent keeps method", Redirect{To: "/new", Status: 308}, "/old", "/new"},
		{"see other", Redirect{To: "/done", Status: 303}, "/form", "/done"},

		{"append path", Redirect{To: "https://example.com/new", Status: 302, Path: pathOf("/x/y")}, "/old/x/y", "https://example.com/new/x/y"},
		{"append to a trailing slash", Redirect{To: "https://example.com/new/", Status: 302, Path: pathOf("/x")}, "/x", "https://example.com/new/x"},
		{"append to a bare host", Redirect{To: "https://example.com", Status: 302, Path: pathOf("/x")}, "/x", "https://example.com/x"},
		{"append the root", Redirect{To: "https://example.com/", Status: 302, Path: pathOf("/")}, "/", "https://example.com/"},
		{"append to a relative to", Redirect{To: "/v2", Status: 302, Path: pathOf("/a")}, "/a", "/v2/a"},
		{"request query", Redirect{To: "https://example.com", Status: 302, Path: pathOf("/x")}, "/x?b=2", "https://example.com/x?b=2"},
		{"to's query", Redirect{To: "https://example.com/n?a=1", Status: 302, Path: pathOf("/x")}, "/x", "https://example.com/n/x?a=1"},
		{"queries merged, to's first", Redirect{To: "https://example.com/n/?a=1", Status: 302, Path: pathOf("/x")}, "/x?b=2&c=3", "https://example.com/n/x?a=1&b=2&c=3"},
		{"query with a slash-ended to", Redirect{To: "/n/?a=1", Status: 302, Path: pathOf("/")}, "/?b=2", "/n/?a=1&b=2"},
		{"existing escapes kept", Redirect{To: "https://example.com", Status: 302, Path: pathOf("/a%2Fb/c%20d")}, "/a%2Fb/c%20d", "https://example.com/a%2Fb/c%20d"},
		{"raw bytes escaped", Redirect{To: "https://example.com", Status: 302, Path: pathOf("/a b/\"q\"")}, "/", "https://example.com/a%20b/%22q%22"},

		// A browser reads "\" as "/": "/\evil.example" would be the
		// protocol-relative URL //evil.example, an open redirect.
		{"backslash after a slash-ended to", Redirect{To: "/", Status: 302, Path: pathOf("/\\evil.example/x")}, "/", "/%5Cevil.example/x"},
		{"backslash after a host", Redirect{To: "https://example.com/", Status: 302, Path: pathOf("/\\\\evil.example")}, "/", "https://example.com/%5C%5Cevil.example"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost} {
				rec := httptest.NewRecorder()
				c.h.ServeHTTP(rec, httptest.NewRequest(method, c.target, nil))
				if rec.Code != c.h.Status {
					t.Errorf("%s: status %d, want %d", method, rec.Code, c.h.Status)
				}
				loc := rec.Header().Get("Location")
				if loc != c.want {
					t.Errorf("%s: Location %q, want %q", method, loc, c.want)
				}
				if cl := rec.Header().Get("Content-Length"); cl != "0" || rec.Body.Len() != 0 {
					t.Errorf("%s: Content-Length %q and %d body bytes, want an empty body", method, cl, rec.Body.Len())
				}
				checkStaysOnHost(t, c.h.To, loc)
			}
		})
	}
}

// checkStaysOnHost fails unless loc leads where to does: to's host for an
// absolute to, this host for a path (never "//" or "/\", which browsers
// read as another host).
func checkStaysOnHost(t *testing.T, to, loc string) {
	t.Helper()
	if strings.ContainsRune(loc, '\\') {
		t.Errorf("Location %q holds a raw backslash", loc)
	}
	want, err := url.Parse(to)
	if err != nil {
		t.Fatal(err)
	}
	got, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q does not parse: %v", loc, err)
	}
	if got.Host != want.Host || (want.Host == "" && strings.HasPrefix(loc, "//")) {
		t.Errorf("Location %q leads to host %q, want %q", loc, got.Host, want.Host)
	}
}

func TestFixed(t *testing.T) {
	for _, c := range []struct {
		name    string
		status  int
		headers map[string]string
		body    string
		method  string
		// want: status is c.status; "" in wantType and wantLength means
		// the header is absent.
		wantBody, wantType, wantLength string
	}{
		{"text sniffed", 200, nil, "pong\n", "GET", "pong\n", "text/plain; charset=utf-8", "5"},
		{"html sniffed", 200, nil, "<!DOCTYPE html><p>hi", "GET", "<!DOCTYPE html><p>hi", "text/html; charset=utf-8", "20"},
		{"binary sniffed", 200, nil, "\x00\x01\x02", "GET", "\x00\x01\x02", "application/octet-stream", "3"},
		{"type as configured", 200, map[string]string{"Content-Type": "application/json"}, `{"ok":true}`, "GET", `{"ok":true}`, "application/json", "11"},
		{"type as configured, any case", 200, map[string]string{"content-type": "text/csv"}, "a,b\n", "GET", "a,b\n", "text/csv", "4"},
		{"error status with a body", 404, nil, "nothing here\n", "GET", "nothing here\n", "text/plain; charset=utf-8", "13"},
		{"empty body", 200, nil, "", "GET", "", "", "0"},
		{"head has no body", 200, nil, "pong\n", "HEAD", "", "text/plain; charset=utf-8", "5"},
		{"post answered the same", 200, nil, "pong\n", "POST", "pong\n", "text/plain; charset=utf-8", "5"},
		{"204 drops the body", 204, nil, "ignored", "GET", "", "", ""},
		{"204 keeps a configured type", 204, map[string]string{"Content-Type": "text/plain"}, "ignored", "GET", "", "text/plain", ""},
		{"304 drops the body", 304, nil, "ignored", "GET", "", "", ""},
		{"304 to head", 304, nil, "ignored", "HEAD", "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := NewFixed(c.status, c.headers, c.body)
			for range 2 { // the same answer every time
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(c.method, "/ping", nil))
				if rec.Code != c.status {
					t.Errorf("status %d, want %d", rec.Code, c.status)
				}
				if got := rec.Body.String(); got != c.wantBody {
					t.Errorf("body %q, want %q", got, c.wantBody)
				}
				checkHeader(t, rec.Header(), "Content-Type", c.wantType)
				checkHeader(t, rec.Header(), "Content-Length", c.wantLength)
			}
		})
	}
}

// TestFixedHeaders checks that configured headers are sent, canonicalized,
// and that a handler after Fixed changing its response's header leaves the
// next response alone.
func TestFixedHeaders(t *testing.T) {
	h := NewFixed(200, map[string]string{"x-served-by": "gatehouse", "Cache-Control": "no-store"}, "ok")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	checkHeader(t, rec.Header(), "X-Served-By", "gatehouse")
	checkHeader(t, rec.Header(), "Cache-Control", "no-store")
	rec.Header().Set("X-Served-By", "changed")
	rec.Header().Add("Cache-Control", "private")
	rec.Header().Del("Content-Type")

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	checkHeader(t, rec.Header(), "X-Served-By", "gatehouse")
	checkHeader(t, rec.Header(), "Cache-Control", "no-store")
	checkHeader(t, rec.Header(), "Content-Type", "text/plain; charset=utf-8")
}

// TestOverTheWire checks the answers on a real connection, where net/http
// adds its own headers: a HEAD and a 204 carry no body, and a HEAD
// announces the length a GET would send.
func TestOverTheWire(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/ping", NewFixed(200, nil, "pong\n"))
	mux.Handle("/empty", NewFixed(204, nil, "ignored"))
	mux.Handle("/old/", &Redirect{To: "https://example.com/new", Status: 308, Path: func(r *http.Request) string { return r.URL.EscapedPath() }})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client := *srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	for _, c := range []struct {
		method, path   string
		status         int
		length         int64
		body, location string
	}{
		{"GET", "/ping", 200, 5, "pong\n", ""},
		{"HEAD", "/ping", 200, 5, "", ""},
		{"GET", "/empty", 204, 0, "", ""},
		{"GET", "/old/a?b=1", 308, 0, "", "https://example.com/new/old/a?b=1"},
	} {
		req, err := http.NewRequest(c.method, srv.URL+c.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		_, err = io.Copy(&b, resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != c.status || resp.ContentLength != c.length || b.String() != c.body || resp.Header.Get("Location") != c.location {
			t.Errorf("%s %s: %d, length %d, body %q, Location %q; want %d, %d, %q, %q",
				c.method, c.path, resp.StatusCode, resp.ContentLength, b.String(), resp.Header.Get("Location"),
				c.status, c.length, c.body, c.location)
		}
	}
}

func checkHeader(t *testing.T, h http.Header, name, want string) {
	t.Helper()
	got, ok := h[name]
	switch {
	case want == "" && ok:
		t.Errorf("%s: %q, want none", name, got)
	case want != "" && (len(got) != 1 || got[0] != want):
		t.Errorf("%s: %q, want %q", name, got, want)
	}
}
