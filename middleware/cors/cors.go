// Package cors carries out a route's CORS policy (the CORS protocol of
// the Fetch standard): which other origins' pages may read its responses,
// with which methods and request headers, and which response headers
// their scripts may see.
//
// It runs after routing and before authentication: a browser never sends
// credentials with a preflight, so a preflight must be answered before
// anything asks for them.
//
// The contract:
//
//   - A preflight (OPTIONS with Origin and Access-Control-Request-Method)
//     is answered here with 204 and never reaches the route's action. If
//     its origin, method, every requested header and (when asked) private
//     network access are allowed, the answer carries
//     Access-Control-Allow-Origin, -Allow-Credentials, -Allow-Methods,
//     -Allow-Headers, -Max-Age and -Allow-Private-Network. If anything is
//     disallowed it carries none of them: still 204, not an error page.
//     The browser blocks the request either way; answering here keeps
//     preflight traffic and its guesses away from the backend, and keeps
//     the backend from answering a preflight with a policy of its own.
//   - An OPTIONS request without Access-Control-Request-Method is not a
//     preflight; it is passed on like any other request.
//   - Every other response of the route, however it is written (the
//     upstream's answer, a cache hit, a refusal of a later step through
//     the funnel), loses whatever Access-Control-* headers it had, so a
//     backend cannot widen the policy, and gets the route's: for an
//     allowed Origin, Access-Control-Allow-Origin (that origin),
//     -Allow-Credentials and -Expose-Headers. A disallowed Origin gets
//     none, and the request is still passed on: CORS decides what a page
//     may read, not what reaches the server.
//   - Vary: Origin is added to every response of a route whose origins
//     are not "*", Origin or not, so a shared cache never serves one
//     origin's answer to another. With "*" the headers
//     (Access-Control-Allow-Origin: *) are the same on every response,
//     Origin or not, and no Vary is needed.
//   - Preflight answers carry Vary: Origin, Access-Control-Request-Method,
//     Access-Control-Request-Headers, Access-Control-Request-Private-Network.
//
// The middleware refuses nothing, so it has no error to report. Header
// values are computed once in New and shared, read-only, by every
// response.
package cors

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/gatehouse-proxy/gatehouse/middleware/wrap"
)

// The header names, in canonical form.
const (
	allowOrigin         = "Access-Control-Allow-Origin"
	allowCredentials    = "Access-Control-Allow-Credentials"
	allowMethods        = "Access-Control-Allow-Methods"
	allowHeaders        = "Access-Control-Allow-Headers"
	allowPrivateNetwork = "Access-Control-Allow-Private-Network"
	exposeHeaders       = "Access-Control-Expose-Headers"
	maxAge              = "Access-Control-Max-Age"
	requestMethod       = "Access-Control-Request-Method"
	requestHeaders      = "Access-Control-Request-Headers"
	requestPrivate      = "Access-Control-Request-Private-Network"
)

// policy is a compiled Options. Its []string fields are header values,
// shared by every response and never written to (each has len == cap,
// so an append elsewhere copies).
type policy struct {
	origins     *matcher
	anyOrigin   bool // "*": Access-Control-Allow-Origin: * on every response
	credentials bool
	private     bool

	anyMethod bool
	methods   []string // allowed, normalized
	anyHeader bool
	headers   []string // allowed request headers, matched case-insensitively

	vMethods, vHeaders, vExpose, vMaxAge []string // nil: header omitted
	vVary, vVaryPreflight                []string
}

var (
	vStar = []string{"*"}
	vTrue = []string{"true"}
)

// New compiles o into the middleware, or says what in o is wrong:
// "*" (in any list) together with AllowCredentials, a pattern that is not
// an origin, an unanchored or invalid regular expression, a method or
// header that is not a token.
func New(o Options) (func(http.Handler) http.Handler, error) {
	p, err := compile(o)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		return &handler{p: p, next: next}
	}, nil
}

func compile(o Options) (*policy, error) {
	m, err := compileOrigins(o.AllowOrigins)
	if err != nil {
		return nil, err
	}
	if m.any && o.AllowCredentials {
		return nil, errors.New(`allow_origins "*" with allow_credentials: browsers refuse "*" on credentialed requests, and answering every origin by name would let any site act as the user; list the origins`)
	}
	p := &policy{origins: m, anyOrigin: m.any, credentials: o.AllowCredentials, private: o.AllowPrivateNetwork}

	methods := o.AllowMethods
	if len(methods) == 0 {
		methods = []string{http.MethodGet, http.MethodHead, http.MethodPost}
	}
	if p.anyMethod, p.methods, err = compileList("allow_methods", methods, o.AllowCredentials); err != nil {
		return nil, err
	}
	for i, m := range p.methods {
		p.methods[i] = normalizeMethod(m)
	}
	if !p.anyMethod {
		p.vMethods = value(strings.Join(p.methods, ", "))
	}
	if p.anyHeader, p.headers, err = compileList("allow_headers", o.AllowHeaders, o.AllowCredentials); err != nil {
		return nil, err
	}
	if !p.anyHeader {
		p.vHeaders = value(strings.Join(p.headers, ", "))
	}
	anyExposed, exposed, err := compileList("expose_headers", o.ExposeHeaders, o.AllowCredentials)
	if err != nil {
		return nil, err
	}
	if anyExposed {
		p.vExpose = vStar
	} else {
		p.vExpose = value(strings.Join(exposed, ", "))
	}
	switch {
	case o.MaxAge < 0:
		p.vMaxAge = value("0")
	case o.MaxAge > 0:
		p.vMaxAge = value(strconv.FormatInt(int64((o.MaxAge+time.Second-1)/time.Second), 10))
	}
	p.vVary = value("Origin")
	p.vVaryPreflight = value("Origin, " + requestMethod + ", " + requestHeaders + ", " + requestPrivate)
	return p, nil
}

// compileList checks a list of tokens: "*" alone means any, and is
// refused with credentials (the Fetch standard reads it literally then).
// The list returned is a copy.
func compileList(name string, list []string, credentials bool) (bool, []string, error) {
	if slices.Contains(list, "*") {
		if len(list) > 1 {
			return false, nil, fmt.Errorf(`%s: "*" means any; list it alone`, name)
		}
		if credentials {
			return false, nil, fmt.Errorf(`%s "*" with allow_credentials: browsers take "*" literally on credentialed requests; list the names`, name)
		}
		return true, nil, nil
	}
	for _, s := range list {
		if !httpguts.ValidHeaderFieldName(s) {
			return false, nil, fmt.Errorf("%s: %q is not a token", name, s)
		}
	}
	return false, slices.Clone(list), nil
}

// normalizeMethod upper-cases the methods the Fetch standard normalizes;
// the rest are compared as written.
func normalizeMethod(m string) string {
	switch u := strings.ToUpper(m); u {
	case http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPost, http.MethodPut:
		return u
	}
	return m
}

// value is a shared header value; nil (no header) for "".
func value(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

type handler struct {
	p    *policy
	next http.Handler
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origin := r.Header["Origin"]
	if r.Method == http.MethodOptions && len(origin) > 0 && len(r.Header[requestMethod]) > 0 {
		h.p.preflight(w, r, origin)
		return
	}
	cw := &writer{p: h.p}
	if len(origin) == 1 && !h.p.anyOrigin && h.p.origins.match(origin[0]) {
		cw.origin = origin[:1:1]
	}
	cw.Reset(w, cw)
	h.next.ServeHTTP(cw, r)
	if cw.Status() == 0 {
		// Nothing was written: net/http sends a 200 with this header.
		cw.FinalizeHeader(http.StatusOK)
	}
}

// preflight answers a preflight: the Allow headers when everything it
// asks for is allowed, none otherwise, and 204 either way.
func (p *policy) preflight(w http.ResponseWriter, r *http.Request, origin []string) {
	h := w.Header()
	if p.allows(r, origin) {
		if p.anyOrigin {
			h[allowOrigin] = vStar
		} else {
			h[allowOrigin] = origin[:1:1]
		}
		if p.credentials {
			h[allowCredentials] = vTrue
		}
		if p.anyMethod {
			h[allowMethods] = r.Header[requestMethod][:1:1]
		} else {
			h[allowMethods] = p.vMethods
		}
		if !p.anyHeader {
			if p.vHeaders != nil {
				h[allowHeaders] = p.vHeaders
			}
		} else if v := r.Header[requestHeaders]; len(v) > 0 {
			h[allowHeaders] = slices.Clip(v)
		}
		if p.vMaxAge != nil {
			h[maxAge] = p.vMaxAge
		}
		if p.private && askedPrivate(r) {
			h[allowPrivateNetwork] = vTrue
		}
	}
	addVary(h, p.vVaryPreflight, "")
	w.WriteHeader(http.StatusNoContent)
}

// allows reports whether the preflight r asks only for what the policy
// allows.
func (p *policy) allows(r *http.Request, origin []string) bool {
	if len(origin) != 1 || !p.origins.match(origin[0]) {
		return false
	}
	m := r.Header[requestMethod]
	if len(m) != 1 {
		return false
	}
	if p.anyMethod {
		if !httpguts.ValidHeaderFieldName(m[0]) {
			return false
		}
	} else if !slices.Contains(p.methods, m[0]) {
		return false
	}
	if !p.anyHeader {
		for _, v := range r.Header[requestHeaders] {
			if !p.headersAllowed(v) {
				return false
			}
		}
	}
	return p.private || !askedPrivate(r)
}

// headersAllowed reports whether every name in the list v (as in
// Access-Control-Request-Headers) is allowed.
func (p *policy) headersAllowed(v string) bool {
	for v != "" {
		var name string
		name, v, _ = strings.Cut(v, ",")
		name = strings.Trim(name, " \t")
		if name == "" {
			continue
		}
		if !containsFold(p.headers, name) {
			return false
		}
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, a := range list {
		if strings.EqualFold(a, s) {
			return true
		}
	}
	return false
}

func askedPrivate(r *http.Request) bool {
	v := r.Header[requestPrivate]
	return len(v) == 1 && v[0] == "true"
}

// response replaces the CORS headers of a response with the policy's;
// origin is the request's Origin when allowed, nil otherwise.
func (p *policy) response(h http.Header, origin []string) {
	for k := range h {
		if len(k) > len("Access-Control-") && strings.EqualFold(k[:len("Access-Control-")], "Access-Control-") {
			delete(h, k)
		}
	}
	switch {
	case p.anyOrigin:
		h[allowOrigin] = vStar
	case origin != nil:
		h[allowOrigin] = origin
	}
	if p.anyOrigin || origin != nil {
		if p.credentials {
			h[allowCredentials] = vTrue
		}
		if p.vExpose != nil {
			h[exposeHeaders] = p.vExpose
		}
	}
	if !p.anyOrigin {
		addVary(h, p.vVary, "Origin")
	}
}

// addVary adds ours to the Vary header, unless it is "*" or already
// names token (when token is not "").
func addVary(h http.Header, ours []string, token string) {
	have := h["Vary"]
	if len(have) == 0 {
		h["Vary"] = ours
		return
	}
	for _, v := range have {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			t = strings.Trim(t, " \t")
			if t == "*" || token != "" && strings.EqualFold(t, token) {
				return
			}
		}
	}
	h["Vary"] = append(slices.Clip(have), ours...)
}

// writer puts the policy's headers on the response however the route
// writes it.
type writer struct {
	wrap.Writer
	p      *policy
	origin []string
}

// BeforeHeader runs after every inner step has set its headers (the
// funnel clears them before a refusal), so the policy's are final.
func (w *writer) BeforeHeader(int) { w.p.response(w.Header(), w.origin) }

var (
	_ http.Handler = (*handler)(nil)
	_ wrap.Hooks   = (*writer)(nil)
)
