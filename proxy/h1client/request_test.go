package h1client_test

import (
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// capture starts a backend that answers okResp and hands every request
// it read to the returned channel.
func capture(t *testing.T) (*backend, chan *request) {
	got := make(chan *request, 10)
	b := newBackend(t, func(c *bconn) {
		for {
			r, err := c.read()
			if err != nil {
				return
			}
			got <- r
			if c.write(okResp) != nil {
				return
			}
		}
	})
	return b, got
}

func received(t *testing.T, got chan *request) *request {
	t.Helper()
	select {
	case r := <-got:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("the backend received no request")
		return nil
	}
}

// TestRequestAsSent: the request line, Host and header as the target
// sees them.
func TestRequestAsSent(t *testing.T) {
	cases := []struct {
		name     string
		out      func() *http.Request
		wantLine string
		// wantHeader fields must be exactly so; nil values must be absent.
		wantHeader http.Header
		wantHost   string
	}{
		{name: "opaque path and query",
			out:      func() *http.Request { return newOut("GET", "/a%2Fb/c%20d?x=1&y=%20&x=2", nil, 0) },
			wantLine: "GET /a%2Fb/c%20d?x=1&y=%20&x=2 HTTP/1.1", wantHost: "gatehouse.test"},
		{name: "double slash path",
			out: func() *http.Request {
				r := newOut("GET", "/", nil, 0)
				r.URL = &url.URL{Path: "//double//slash/a b", RawPath: "//double//slash/a%20b", RawQuery: "q"}
				return r
			},
			wantLine: "GET //double//slash/a%20b?q HTTP/1.1"},
		{name: "force query", out: func() *http.Request { return newOut("GET", "/p?", nil, 0) },
			wantLine: "GET /p? HTTP/1.1"},
		{name: "empty path", out: func() *http.Request {
			r := newOut("GET", "/", nil, 0)
			r.URL = &url.URL{}
			return r
		}, wantLine: "GET / HTTP/1.1"},
		{name: "options", out: func() *http.Request { return newOut("OPTIONS", "/x", nil, 0) },
			wantLine: "OPTIONS /x HTTP/1.1"},
		{name: "host from the URL when Host is empty", out: func() *http.Request {
			r := newOut("GET", "/", nil, 0)
			r.Host, r.URL.Host = "", "url.example:8080"
			return r
		}, wantLine: "GET / HTTP/1.1", wantHost: "url.example:8080"},
		{name: "headers", out: func() *http.Request {
			r := newOut("GET", "/h", nil, 0)
			r.Header["X-One"] = []string{"1"}
			r.Header["X-Multi"] = []string{"a", "b, c"}
			r.Header["User-Agent"] = []string{"agent/1"}
			r.Header["Host"] = []string{"ignored.example"}
			return r
		}, wantLine: "GET /h HTTP/1.1", wantHost: "gatehouse.test",
			wantHeader: http.Header{"X-One": {"1"}, "X-Multi": {"a", "b, c"}, "User-Agent": {"agent/1"}}},
		{name: "empty User-Agent omitted", out: func() *http.Request {
			r := newOut("GET", "/", nil, 0)
			r.Header["User-Agent"] = []string{""}
			return r
		}, wantLine: "GET / HTTP/1.1", wantHeader: http.Header{"User-Agent": nil}},
		{name: "framing fields of the header not sent as given", out: func() *http.Request {
			r := newOut("GET", "/", nil, 0)
			r.Header["Content-Length"] = []string{"99"}
			r.Header["Transfer-Encoding"] = []string{"chunked"}
			r.Header["Trailer"] = []string{"X-T"}
			return r
		}, wantLine: "GET / HTTP/1.1",
			wantHeader: http.Header{"Content-Length": nil, "Transfer-Encoding": nil, "Trailer": nil}},
		{name: "GET without body has no length", out: func() *http.Request { return newOut("GET", "/", nil, 0) },
			wantLine: "GET / HTTP/1.1", wantHeader: http.Header{"Content-Length": nil, "Transfer-Encoding": nil}},
		{name: "HEAD without body has no length", out: func() *http.Request { return newOut("HEAD", "/", nil, 0) },
			wantLine: "HEAD / HTTP/1.1", wantHeader: http.Header{"Content-Length": nil, "Transfer-Encoding": nil}},
		{name: "POST without body says length 0", out: func() *http.Request { return newOut("POST", "/", nil, 0) },
			wantLine: "POST / HTTP/1.1", wantHeader: http.Header{"Content-Length": {"0"}, "Transfer-Encoding": nil}},
		{name: "PUT without body says length 0", out: func() *http.Request { return newOut("PUT", "/", nil, 0) },
			wantLine: "PUT / HTTP/1.1", wantHeader: http.Header{"Content-Length": {"0"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, got := capture(t)
			f := newForwarder(t, testOpts())
			if _, res, _, err := forward(f, b, tc.out()); err != nil || res.StatusCode != 200 {
				t.Fatalf("Forward: %v", err)
			}
			r := received(t, got)
			if r.line != tc.wantLine {
				t.Errorf("request line %q, want %q", r.line, tc.wantLine)
			}
			if tc.wantHost != "" && r.Host != tc.wantHost {
				t.Errorf("Host %q, want %q", r.Host, tc.wantHost)
			}
			if n := strings.Count(strings.ToLower(r.head), "\r\nhost:"); n != 1 {
				t.Errorf("%d Host fields in %q", n, r.head)
			}
			for k, v := range tc.wantHeader {
				if g := r.Header[k]; !reflect.DeepEqual(g, v) {
					t.Errorf("header %s = %q, want %q (head %q)", k, g, v, r.head)
				}
			}
			if !strings.HasPrefix(r.head, tc.wantLine+"\r\nHost: ") {
				t.Errorf("head %q does not start with the request line and Host", r.head)
			}
		})
	}
}

// TestRequestBody: a body of known length goes with Content-Length; one
// of unknown length is chunked, with its trailers.
func TestRequestBody(t *testing.T) {
	t.Run("content-length", func(t *testing.T) {
		b, got := capture(t)
		f := newForwarder(t, testOpts())
		if _, _, _, err := forward(f, b, newOut("POST", "/up", strings.NewReader("hello"), 5)); err != nil {
			t.Fatal(err)
		}
		r := received(t, got)
		if r.Header.Get("Content-Length") != "5" || len(r.TransferEncoding) != 0 || string(r.body) != "hello" {
			t.Errorf("head %q body %q, want Content-Length: 5 and hello", r.head, r.body)
		}
	})
	t.Run("chunked with trailers", func(t *testing.T) {
		b, got := capture(t)
		f := newForwarder(t, testOpts())
		tr := http.Header{"X-Check": nil}
		body := &fillTrailer{r: io.MultiReader(strings.NewReader("hello "), strings.NewReader("world")), tr: tr}
		out := newOut("POST", "/up", body, -1)
		out.Trailer = tr
		if _, _, _, err := forward(f, b, out); err != nil {
			t.Fatal(err)
		}
		r := received(t, got)
		if !reflect.DeepEqual(r.TransferEncoding, []string{"chunked"}) || r.Header.Get("Content-Length") != "" {
			t.Errorf("head %q, want chunked without a length", r.head)
		}
		if !strings.Contains(r.head, "\r\nTrailer: X-Check\r\n") {
			t.Errorf("head %q, want X-Check announced in Trailer", r.head)
		}
		if string(r.body) != "hello world" || r.trailer.Get("X-Check") != "v1" {
			t.Errorf("body %q trailer %v, want hello world and X-Check: v1", r.body, r.trailer)
		}
	})
	t.Run("body cut short", func(t *testing.T) {
		b, _ := capture(t)
		f := newForwarder(t, testOpts())
		_, _, _, err := forward(f, b, newOut("POST", "/up", strings.NewReader("abc"), 10))
		if err == nil || !strings.Contains(err.Error(), "unexpected EOF") {
			t.Fatalf("error %v, want the body's unexpected EOF", err)
		}
	})
}

// TestBadOutboundValueRefused: a value HTTP/1.1 cannot carry fails the
// request before a byte of it reaches the target.
func TestBadOutboundValueRefused(t *testing.T) {
	cases := map[string]func(r *http.Request){
		"CRLF in a value":   func(r *http.Request) { r.Header["X-A"] = []string{"a\r\nX-Injected: 1"} },
		"LF in a value":     func(r *http.Request) { r.Header["X-A"] = []string{"a\nb"} },
		"CR in a value":     func(r *http.Request) { r.Header["X-A"] = []string{"a\rb"} },
		"NUL in a value":    func(r *http.Request) { r.Header["X-A"] = []string{"a\x00b"} },
		"second value bad":  func(r *http.Request) { r.Header["X-A"] = []string{"fine", "bad\r\n"} },
		"CRLF in the Host":  func(r *http.Request) { r.Host = "h.example\r\nX-Injected: 1" },
		"CRLF in the agent": func(r *http.Request) { r.Header["User-Agent"] = []string{"a\r\n"} },
	}
	for name, spoil := range cases {
		t.Run(name, func(t *testing.T) {
			bytesRead := make(chan int, 10)
			b := newBackend(t, func(c *bconn) {
				n, _ := io.Copy(io.Discard, c.br)
				bytesRead <- int(n)
			})
			f := newForwarder(t, testOpts())
			out := newOut("GET", "/", nil, 0)
			out.Header["X-Good"] = []string{"1"}
			spoil(out)
			_, _, _, err := forward(f, b, out)
			if err == nil || !strings.Contains(err.Error(), "line break or NUL") {
				t.Fatalf("error %v, want a refusal", err)
			}
			if pe := proxyError(t, err); pe.ClientGone {
				t.Errorf("ClientGone set: %v", err)
			}
			for range b.accepts.Load() {
				select {
				case n := <-bytesRead:
					if n != 0 {
						t.Errorf("the target received %d bytes of a refused request", n)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("the refused request's connection was not closed")
				}
			}
		})
	}
}

// fillTrailer sets its trailer's value at the body's end, as net/http's
// server does.
type fillTrailer struct {
	r  io.Reader
	tr http.Header
}

func (f *fillTrailer) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		f.tr["X-Check"] = []string{"v1"}
	}
	return n, err
}
