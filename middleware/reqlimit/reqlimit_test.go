package reqlimit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/funnel"
)

func TestNothingSetBuildsNothing(t *testing.T) {
	for _, o := range []Options{{}, {MaxHeaderBytes: -1, MaxURIBytes: -1}, {Methods: []string{}}, {Methods: []string{""}}} {
		if New(o, nil) != nil {
			t.Errorf("%+v: want no middleware", o)
		}
	}
}

// serve runs r through the middleware of o in front of a handler that
// notes it was reached; refusals are answered by a real funnel.
func serve(t *testing.T, o Options, r *http.Request) (rec *httptest.ResponseRecorder, reached bool, failed error) {
	t.Helper()
	fn := &funnel.Funnel{}
	mw := New(o, func(w http.ResponseWriter, r *http.Request, err error) {
		failed = err
		fn.Fail(w, r, err)
	})
	rec = httptest.NewRecorder()
	mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true })).ServeHTTP(rec, r)
	if reached == (failed != nil) {
		t.Fatalf("reached the handler %v, refused with %v: want exactly one", reached, failed)
	}
	return rec, reached, failed
}

func TestURILimit(t *testing.T) {
	o := Options{MaxURIBytes: 12}
	for _, tc := range []struct {
		name, target string
		status       int
	}{
		{"under", "/short", 200},
		{"at the limit", "/12345678901", 200},
		{"one over", "/123456789012", 414},
		{"the query counts", "/a?q=12345678", 414},
		{"query at the limit", "/a?q=123456", 200},
		{"escapes count as sent", "/%41%42%43%44", 414},
		{"absolute form, at the limit", "http://a/bcd", 200},
		{"absolute form, one over", "http://a/bcde", 414},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tc.target, nil)
			r.RequestURI = tc.target
			rec, _, err := serve(t, o, r)
			if rec.Code != tc.status {
				t.Errorf("%q (%d bytes): %d, want %d", tc.target, len(tc.target), rec.Code, tc.status)
			}
			if tc.status == 414 && !errors.Is(err, funnel.ErrURITooLong) {
				t.Errorf("error %v, want ErrURITooLong", err)
			}
		})
	}
	// A request made in this process without a RequestURI: its URL is measured.
	r, _ := http.NewRequest("GET", "http://example.com/123456789012?x", nil)
	if rec, _, _ := serve(t, o, r); rec.Code != 414 {
		t.Errorf("no RequestURI, URL %q: %d, want 414", r.URL.RequestURI(), rec.Code)
	}
}

func TestHeaderLimit(t *testing.T) {
	// "Host: a\r\n" is 9 bytes, "X-A: bbb\r\n" 10, "X-B: \r\n" 7.
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Add(kv[i], kv[i+1])
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		host   string
		header http.Header
		limit  int
		status int
	}{
		{"host alone, at the limit", "a", nil, 9, 200},
		{"host alone, one over", "a", nil, 8, 431},
		{"no host", "", h("X-A", "bbb"), 10, 200},
		{"at the limit", "a", h("X-A", "bbb"), 19, 200},
		{"one over", "a", h("X-A", "bbb"), 18, 431},
		{"each value is a line", "a", h("X-A", "bbb", "X-A", "bbb"), 29, 200},
		{"each value is a line, one over", "a", h("X-A", "bbb", "X-A", "bbb"), 28, 431},
		{"an empty value counts its line", "a", h("X-A", "bbb", "X-B", ""), 26, 200},
		{"an empty value, one over", "a", h("X-A", "bbb", "X-B", ""), 25, 431},
		{"a Host key is not counted twice", "a", h("Host", "a"), 9, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.Host, r.Header = tc.host, tc.header
			if r.Header == nil {
				r.Header = http.Header{}
			}
			rec, _, err := serve(t, Options{MaxHeaderBytes: tc.limit}, r)
			if rec.Code != tc.status {
				t.Errorf("%d bytes against %d: %d, want %d", headerBytes(r), tc.limit, rec.Code, tc.status)
			}
			if tc.status == 431 && !errors.Is(err, funnel.ErrHeaderTooLarge) {
				t.Errorf("error %v, want ErrHeaderTooLarge", err)
			}
		})
	}
}

func TestMethods(t *testing.T) {
	for _, tc := range []struct {
		name    string
		methods []string
		method  string
		allow   string // "" for a request that passes
	}{
		{"listed", []string{"GET", "POST"}, "POST", ""},
		{"GET", []string{"GET", "POST"}, "GET", ""},
		{"HEAD implied by GET", []string{"GET", "POST"}, "HEAD", ""},
		{"not listed", []string{"GET", "POST"}, "PUT", "GET, HEAD, POST"},
		{"OPTIONS is not implied", []string{"GET", "POST"}, "OPTIONS", "GET, HEAD, POST"},
		{"case-sensitive", []string{"GET", "POST"}, "get", "GET, HEAD, POST"},
		{"HEAD without GET", []string{"POST"}, "HEAD", "POST"},
		{"GET is not implied by HEAD", []string{"HEAD"}, "GET", "HEAD"},
		{"HEAD listed before GET", []string{"HEAD", "GET"}, "PUT", "HEAD, GET"},
		{"repeats dropped", []string{"POST", "GET", "POST"}, "DELETE", "POST, GET, HEAD"},
		{"an extension method", []string{"PROPFIND"}, "PROPFIND", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, _, err := serve(t, Options{Methods: tc.methods}, httptest.NewRequest(tc.method, "/", nil))
			if tc.allow == "" {
				if rec.Code != 200 {
					t.Errorf("%s: %d, want it to pass", tc.method, rec.Code)
				}
				return
			}
			if rec.Code != 405 || rec.Header().Get("Allow") != tc.allow || !errors.Is(err, funnel.ErrMethodNotAllowed) {
				t.Errorf("%s: %d, Allow %q, error %v; want 405 with Allow %q", tc.method, rec.Code, rec.Header().Get("Allow"), err, tc.allow)
			}
		})
	}
}

// The checks run in the documented order: target, header, method.
func TestOrder(t *testing.T) {
	o := Options{MaxURIBytes: 5, MaxHeaderBytes: 10, Methods: []string{"GET"}}
	big := http.Header{"X-Big": {strings.Repeat("x", 20)}}
	for _, tc := range []struct {
		name, method, target string
		header               http.Header
		status               int
	}{
		{"all three fail", "PUT", "/123456", big, 414},
		{"header and method fail", "PUT", "/", big, 431},
		{"method fails", "PUT", "/", nil, 405},
		{"none fails", "GET", "/", nil, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.target, nil)
			r.Host = ""
			if tc.header != nil {
				r.Header = tc.header
			}
			if rec, _, _ := serve(t, o, r); rec.Code != tc.status {
				t.Errorf("%d, want %d", rec.Code, tc.status)
			}
		})
	}
}

// Over a real HTTP/1.1 connection the header count is the bytes between
// the request line and the empty line, and the target the one written.
func TestLoopbackHTTP1(t *testing.T) {
	const head = "Host: example.com\r\nUser-Agent: raw\r\nX-Key: 0123456789\r\nX-Key: again\r\n"
	const target = "/path/to%20it?q=1"
	var reached atomic.Int32
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Add(1) })
	fn := &funnel.Funnel{}
	for _, tc := range []struct {
		name   string
		o      Options
		status int
	}{
		{"header at the limit", Options{MaxHeaderBytes: len(head)}, 200},
		{"header one over", Options{MaxHeaderBytes: len(head) - 1}, 431},
		{"target at the limit", Options{MaxURIBytes: len(target)}, 200},
		{"target one over", Options{MaxURIBytes: len(target) - 1}, 414},
		{"method", Options{Methods: []string{"POST"}}, 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reached.Store(0)
			srv := httptest.NewServer(New(tc.o, fn.Fail)(inner))
			defer srv.Close()
			// A raw connection: the request goes as written, byte for
			// byte (testkit would import this package back through the
			// middleware table).
			c, err := net.DialTimeout("tcp", srv.Listener.Addr().String(), 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(c, "GET "+target+" HTTP/1.1\r\n"+head+"\r\n"); err != nil {
				t.Fatal(err)
			}
			res, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if n := reached.Load(); res.StatusCode != tc.status || (n == 1) != (tc.status == 200) {
				t.Errorf("%d, reached %d times; want %d", res.StatusCode, n, tc.status)
			}
			if tc.status == 405 && res.Header.Get("Allow") != "POST" {
				t.Errorf("Allow %q, want POST", res.Header.Get("Allow"))
			}
		})
	}
}

// Over HTTP/2 the target is :path and the Host is :authority: the same
// request passes at both limits and is refused one under them.
func TestLoopbackHTTP2(t *testing.T) {
	var seen atomic.Int64 // the header bytes of the last request that passed
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 {
			seen.Store(int64(headerBytes(r)))
		}
	})
	fn := &funnel.Funnel{}
	const target = "/h2/path?x=1"
	get := func(o Options) int {
		srv := httptest.NewUnstartedServer(New(o, fn.Fail)(inner))
		srv.EnableHTTP2 = true
		srv.StartTLS()
		defer srv.Close()
		res, err := srv.Client().Get(srv.URL + target)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.ProtoMajor != 2 {
			t.Fatalf("answered over %s, want HTTP/2", res.Proto)
		}
		if host := len("Host: \r\n") + len(srv.Listener.Addr().String()); res.StatusCode == 200 && int(seen.Load()) <= host {
			t.Errorf("header counted %d bytes, no more than the :authority's %d", seen.Load(), host)
		}
		return res.StatusCode
	}
	if got := get(Options{MaxURIBytes: len(target)}); got != 200 {
		t.Errorf("target at the limit: %d", got)
	}
	if got := get(Options{MaxURIBytes: len(target) - 1}); got != 414 {
		t.Errorf("target one over: %d", got)
	}
	size := int(seen.Load())
	if got := get(Options{MaxHeaderBytes: size}); got != 200 {
		t.Errorf("header at the limit (%d): %d", size, got)
	}
	if got := get(Options{MaxHeaderBytes: size - 1}); got != 431 {
		t.Errorf("header one over (%d): %d", size-1, got)
	}
}

func ExampleNew() {
	mw := New(Options{Methods: []string{"GET", "POST"}}, func(w http.ResponseWriter, r *http.Request, err error) {
		fmt.Println(err, "| Allow:", allowOf(err))
	})
	mw(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("DELETE", "/", nil))
	// Output: method "DELETE" is not one of GET, HEAD, POST: method not allowed | Allow: GET, HEAD, POST
}

// allowOf is the Allow header the funnel would send with err.
func allowOf(err error) string {
	rec := httptest.NewRecorder()
	(&funnel.Funnel{}).Fail(rec, httptest.NewRequest("GET", "/", nil), err)
	return rec.Header().Get("Allow")
}
