// Package reqlimit refuses requests a route does not take: a request
// target that is too long (414), a header that is too large (431) and a
// method the route does not list (405, with an Allow header listing
// those it does). The checks run in that order, the first that fails
// answers, and a refused request never reaches the next handler.
//
// # Request target
//
// The target is measured as the client sent it, r.RequestURI: the path
// and query of an origin-form target ("/search?q=x"), the whole of an
// absolute-form one ("http://example.com/x"), the authority of a
// CONNECT; over HTTP/2 and HTTP/3, the :path pseudo-header. It is
// measured before the path is normalized, so what counts is what the
// client wrote, escapes included.
//
// # Header size
//
// Each field line counts len(name) + len(value) + 4, the bytes of
// "Name: value\r\n" in HTTP/1.1. The Host counts as a field line too
// (HTTP/1.1's Host header, HTTP/2's and HTTP/3's :authority, or the
// authority of an absolute-form target, which net/http takes instead of
// the Host header), and so does a Transfer-Encoding: chunked, which
// net/http takes out of the header. The request line, the other
// pseudo-headers, the empty line that ends the header and trailers do
// not count.
//
// Fields are counted as net/http hands them to handlers, not as bytes
// read. For an HTTP/1.1 request written with one space after each colon
// the total is the bytes between the request line and the empty line,
// but for the few fields net/http removes or adds first: a Content-Length
// repeated with the same value or sent beside chunked, the Trailer
// announcement of a chunked body, an empty Host, and the Cache-Control:
// no-cache it adds beside a Pragma: no-cache. Over HTTP/2 and HTTP/3 a
// compressed field counts at its full size, and Cookie crumbs sent as
// separate fields count as the one line net/http joins them into. The
// server's own limit on header bytes still applies first; this one can
// only be tighter, per route.
//
// # Methods
//
// Methods are compared case-sensitively, as RFC 9110 says ("GET", never
// "get"). Listing GET allows HEAD too, as nginx's limit_except does and
// as RFC 9110 expects of a resource that answers GET; no other method
// is implied (OPTIONS, for one, passes only when listed). The Allow
// header of a 405 lists the methods in their configured order, HEAD
// right after GET when it was implied.
package reqlimit

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/funnel"
)

// Options configure a route's limits. Validated by config.
type Options struct {
	// MaxHeaderBytes bounds the header as counted in the package
	// documentation; 0 means no limit.
	MaxHeaderBytes int
	// MaxURIBytes bounds len(r.RequestURI); 0 means no limit.
	MaxURIBytes int
	// Methods are the methods the route takes; empty means any.
	Methods []string
}

// New returns the middleware, or nil when no limit is set. Refusals go
// to fail.
func New(o Options, fail func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	methods := allowed(o.Methods)
	if o.MaxHeaderBytes <= 0 && o.MaxURIBytes <= 0 && len(methods) == 0 {
		return nil
	}
	h := handler{
		maxHeader: max(o.MaxHeaderBytes, 0),
		maxURI:    max(o.MaxURIBytes, 0),
		methods:   methods,
		allow:     strings.Join(methods, ", "),
		fail:      fail,
	}
	return func(next http.Handler) http.Handler {
		h := h
		h.next = next
		return &h
	}
}

// allowed returns the methods without repeats, HEAD added after GET.
func allowed(methods []string) []string {
	var out []string
	for _, m := range methods {
		if m != "" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	if i := slices.Index(out, http.MethodGet); i >= 0 && !slices.Contains(out, http.MethodHead) {
		out = slices.Insert(out, i+1, http.MethodHead)
	}
	return out
}

type handler struct {
	maxHeader, maxURI int // 0: no limit
	methods           []string
	allow             string // the Allow header of a 405
	fail              func(http.ResponseWriter, *http.Request, error)
	next              http.Handler
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.maxURI > 0 {
		if n := uriBytes(r); n > h.maxURI {
			h.fail(w, r, fmt.Errorf("request target of %d bytes, limit %d: %w", n, h.maxURI, funnel.ErrURITooLong))
			return
		}
	}
	if h.maxHeader > 0 {
		if n := headerBytes(r); n > h.maxHeader {
			h.fail(w, r, fmt.Errorf("request header of %d bytes, limit %d: %w", n, h.maxHeader, funnel.ErrHeaderTooLarge))
			return
		}
	}
	if len(h.methods) > 0 && !slices.Contains(h.methods, r.Method) {
		h.fail(w, r, funnel.WithHeader(fmt.Errorf("method %q is not one of %s: %w", r.Method, h.allow, funnel.ErrMethodNotAllowed), "Allow", h.allow))
		return
	}
	h.next.ServeHTTP(w, r)
}

// uriBytes is the length of the request target as sent. A request made
// in this process (a test, an internal subrequest) may have no
// RequestURI: its URL's is measured instead.
func uriBytes(r *http.Request) int {
	if r.RequestURI != "" || r.URL == nil {
		return len(r.RequestURI)
	}
	return len(r.URL.RequestURI())
}

// headerBytes counts r's header as the package documentation says.
func headerBytes(r *http.Request) int {
	const line = len(": \r\n")
	n := 0
	if r.Host != "" {
		n = len("Host") + len(r.Host) + line
	}
	for _, te := range r.TransferEncoding { // only ever "chunked"
		n += len("Transfer-Encoding") + len(te) + line
	}
	for name, values := range r.Header {
		if name == "Host" && r.Host != "" {
			continue // counted above (a server's request has none: net/http moved it to r.Host)
		}
		for _, v := range values {
			n += len(name) + len(v) + line
		}
	}
	return n
}

var _ http.Handler = (*handler)(nil)
