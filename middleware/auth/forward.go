package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/internal/hop"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// Forward asks an authentication service whether a request may pass, as
// nginx's auth_request and Traefik's forwardAuth do. For every request
// (or every cache miss) it sends the service a subrequest: the client's
// method (CONNECT is sent as GET), no body, the client's RequestHeaders
// (never hop-by-hop ones), and Gatehouse's own X-Forwarded-Method,
// -Proto, -Host, -Uri (the request target as the client sent it) and
// -For (the client IP resolved behind trusted proxies), and X-Request-Id
// when the request has an ID. Copies of these a client sent are never
// passed on: the client cannot spoof them. The subrequest follows no
// redirect and keeps no cookies.
//
// The service's answer decides:
//   - 2xx admits: the identity's User is the UserHeader response header
//     (empty when absent), and the CopyHeaders response headers go
//     upstream, control characters replaced by spaces. Copies of those
//     names a client sent never go upstream, admitted or not.
//   - 3xx and 4xx deny, and the client gets the answer as the service
//     sent it (status, header fields, body) through the error funnel: a
//     401 with its WWW-Authenticate, a 302 to a login page with its
//     Location and Set-Cookie. Hop-by-hop fields are dropped and
//     Content-Length is recomputed. A body over 64 KiB is not cut (a
//     cut page would be a broken one): the request is refused with 503
//     instead, and the log says why. A denial whose body cannot be read
//     is a 503 too; a denial never admits.
//   - 5xx, no answer within Timeout, or none at all (refused, reset):
//     the service failed to decide, and OnError does. "deny" (the
//     default) answers 503, "service unavailable"; the service's own
//     500 page (which may show internals) is not passed on, unlike
//     nginx, which turns it into a 500 of its own. "allow" admits the
//     request as nobody (a nil identity), and is for optional auth only:
//     the backend must not rely on the request being checked. The
//     Logger hears of each failure "allow" admits.
//
// The client going away cancels the subrequest. Subrequests are not
// bounded in number: a route takes as many as it gets requests (cache
// misses); bound the route's rate if the service needs it.
//
// With Cache.TTL set, admissions are remembered (denials and failures
// never are), keyed by a SHA-256 of the Cache.Key headers' values as the
// service saw them, each length-prefixed so that no two sets of values
// share a key; a request with none of them is never cached. The service's
// decision must then depend on those headers only (not on the method,
// path or client IP), and a session it revokes keeps working for up to
// TTL. At most Cache.MaxEntries are kept, the least recently used going
// first.
//
// Close closes the idle connections of the client Forward made.
type Forward struct {
	url     string
	send    []string // RequestHeaders, canonical
	copy    []string // CopyHeaders, canonical
	user    string   // UserHeader, canonical
	timeout time.Duration
	allow   bool
	log     *slog.Logger
	client  *http.Client
	own     *http.Transport // the client's transport, when Forward made it
	closed  atomic.Bool
	cache   *admissions // nil for none
}

// ForwardOptions configure a Forward method.
type ForwardOptions struct {
	// URL is the authentication service, http or https.
	URL string
	// RequestHeaders are the client's header fields sent to the service;
	// nil means Authorization and Cookie, an empty list none. Hop-by-hop
	// fields and those Gatehouse sets itself are refused.
	RequestHeaders []string
	// UserHeader names the response header that is the identity's User,
	// e.g. X-Auth-User; "" leaves it empty.
	UserHeader string
	// CopyHeaders name response headers of an admission set on the
	// request sent upstream, e.g. X-Auth-User, X-Auth-Email.
	CopyHeaders []string
	// Timeout bounds a subrequest, answer body included; default 5 s.
	Timeout time.Duration
	// OnError is what a failed service means: "deny" (the default) or
	// "allow" (for optional auth only); see Forward.
	OnError string
	// Cache remembers admissions; its zero value remembers none.
	Cache ForwardCache
	// Client sends the subrequests (for TLS settings, say); nil means a
	// client of Forward's own with Timeout. Its redirect policy and
	// cookie jar are not used.
	Client *http.Client
	// RootCAs verify an https service for Forward's own client; nil
	// means the system's. Not with Client.
	RootCAs *x509.CertPool
	// Now is the cache's clock; nil means time.Now.
	Now func() time.Time
	// Logger hears of the failures OnError "allow" admits; nil discards.
	Logger *slog.Logger
}

// ForwardCache configures the cache of admissions.
type ForwardCache struct {
	// TTL is how long an admission is remembered; zero or less, never.
	TTL time.Duration
	// Key names the request headers whose values are the key; nil
	// means RequestHeaders. Each must be one of RequestHeaders.
	Key []string
	// MaxEntries bounds the admissions kept; default 10000.
	MaxEntries int
}

// maxAnswerBytes bounds the body of a denial passed on to the client.
const maxAnswerBytes = 64 << 10

// errForwardFailed is the answer when the service failed to decide.
var errForwardFailed = &funnel.Class{Status: http.StatusServiceUnavailable,
	Message: "service unavailable: the authentication service did not answer",
	Reason:  "the authentication service failed to decide"}

// forwardSet are the headers Gatehouse sets on a subrequest itself.
var forwardSet = []string{"X-Forwarded-Method", "X-Forwarded-Proto", "X-Forwarded-Host",
	"X-Forwarded-Uri", "X-Forwarded-For", "X-Request-Id"}

// NewForward returns a Forward method, or an error naming a bad option.
func NewForward(o ForwardOptions) (*Forward, error) {
	u, err := url.Parse(o.URL)
	if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("forward auth: url %q is not an http or https URL", o.URL)
	}
	f := &Forward{url: o.URL, user: http.CanonicalHeaderKey(o.UserHeader), timeout: o.Timeout, log: o.Logger}
	if f.timeout <= 0 {
		f.timeout = 5 * time.Second
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	switch o.OnError {
	case "", "deny":
	case "allow":
		f.allow = true
	default:
		return nil, fmt.Errorf("forward auth: on_error %q is not deny or allow", o.OnError)
	}
	if o.RequestHeaders == nil {
		o.RequestHeaders = []string{"Authorization", "Cookie"}
	}
	if f.send, err = headerNames("request header", o.RequestHeaders, forwardSet); err != nil {
		return nil, err
	}
	if f.copy, err = headerNames("copied header", o.CopyHeaders, nil); err != nil {
		return nil, err
	}
	if o.Cache.TTL > 0 {
		if f.cache, err = newAdmissions(o.Cache, f.send, o.Now); err != nil {
			return nil, err
		}
	}
	f.client = o.Client
	switch {
	case f.client != nil && o.RootCAs != nil:
		return nil, errors.New("forward auth: give a client or root CAs, not both")
	case f.client == nil:
		f.own = http.DefaultTransport.(*http.Transport).Clone()
		// The body goes to the client as the service sent it.
		f.own.DisableCompression = true
		if o.RootCAs != nil {
			f.own.TLSClientConfig = &tls.Config{RootCAs: o.RootCAs}
		}
		f.client = &http.Client{Transport: f.own, Timeout: f.timeout}
	}
	c := *f.client
	c.Jar = nil // one user's cookies must never be sent for another
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	f.client = &c
	return f, nil
}

// headerNames canonicalizes names, refusing those a request may not
// carry from one hop to the next, Host, Content-Length, and reserved.
func headerNames(what string, names, reserved []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		k := http.CanonicalHeaderKey(n)
		switch {
		case !isToken(n):
			return nil, fmt.Errorf("forward auth: %s %q is not a header name", what, n)
		case hop.Is(k), k == "Host", k == "Content-Length", slices.Contains(reserved, k):
			return nil, fmt.Errorf("forward auth: %s %q is not one Gatehouse passes on", what, n)
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

// Challenge implements Method: the service answers for itself.
func (f *Forward) Challenge() string { return "" }

// Close closes the idle connections of the client Forward made, and
// those of subrequests still under way when they end. Safe to call more
// than once.
func (f *Forward) Close() error {
	f.closed.Store(true)
	if f.own != nil {
		f.own.CloseIdleConnections()
	}
	return nil
}

// Authenticate implements Method.
func (f *Forward) Authenticate(r *http.Request) (*reqinfo.Identity, error) {
	hd := f.header(r)
	key, cacheable := f.cache.keyOf(hd)
	if cacheable {
		if id := f.cache.get(key); id != nil {
			return id, nil
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), f.timeout)
	defer cancel()
	method := r.Method
	if method == http.MethodConnect {
		method = http.MethodGet // a CONNECT would ask the service for a tunnel
	}
	req, err := http.NewRequestWithContext(ctx, method, f.url, nil)
	if err != nil {
		return nil, fmt.Errorf("forward auth: %w: %w", err, funnel.ErrInternal)
	}
	req.Header = hd
	res, err := f.client.Do(req)
	if err != nil {
		return f.failed(r, err)
	}
	defer f.release(res)
	switch s := res.StatusCode; {
	case s >= 200 && s < 300:
		id := f.identity(res.Header)
		if cacheable {
			f.cache.put(key, id)
		}
		return id, nil
	case s >= 500:
		return f.failed(r, fmt.Errorf("answered %d", s))
	}
	return nil, f.denial(r, res)
}

// header is the subrequest's header for r. Values are shared with r's.
func (f *Forward) header(r *http.Request) http.Header {
	info := reqinfo.From(r.Context())
	hd := make(http.Header, len(f.send)+len(forwardSet)+1)
	conn := r.Header["Connection"]
	for _, k := range f.send {
		if vv := r.Header[k]; len(vv) > 0 && !hop.Named(conn, k) {
			hd[k] = vv
		}
	}
	if hd["User-Agent"] == nil {
		hd["User-Agent"] = []string{""} // none, rather than Go's
	}
	scheme := info.Scheme
	if scheme == "" {
		scheme = "http"
	}
	hd["X-Forwarded-Method"] = []string{r.Method}
	hd["X-Forwarded-Proto"] = []string{scheme}
	hd["X-Forwarded-Host"] = []string{r.Host}
	hd["X-Forwarded-Uri"] = []string{requestTarget(r)}
	ip := info.ClientIP
	if !ip.IsValid() {
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
			ip = ap.Addr().Unmap()
		}
	}
	if ip.IsValid() {
		hd["X-Forwarded-For"] = []string{ip.String()}
	}
	if info.RequestID != "" {
		hd["X-Request-Id"] = []string{info.RequestID}
	}
	return hd
}

// requestTarget is the path and query as the client sent them.
func requestTarget(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		return r.RequestURI
	}
	return r.URL.RequestURI() // absolute-form, or a request made in a test
}

// identity is who an admission says the request is.
func (f *Forward) identity(h http.Header) *reqinfo.Identity {
	id := &reqinfo.Identity{Method: "forward"}
	if f.user != "" {
		id.User = clean(h.Get(f.user))
	}
	for _, k := range f.copy {
		vv := h[k]
		if len(vv) == 0 {
			continue
		}
		if id.Headers == nil {
			id.Headers = make(http.Header, len(f.copy))
		}
		out := make([]string, len(vv))
		for i, v := range vv {
			out[i] = clean(v)
		}
		id.Headers[k] = out
	}
	return id
}

// denial is the service's refusal, answered to the client as it was
// sent; or, when its body is too long or broke off, a 503.
func (f *Forward) denial(r *http.Request, res *http.Response) error {
	body, err := io.ReadAll(io.LimitReader(res.Body, maxAnswerBytes+1))
	switch {
	case err != nil && errors.Is(r.Context().Err(), context.Canceled):
		return fmt.Errorf("forward auth %s: reading its %d: %w: %w", f.url, res.StatusCode, err, funnel.ErrClientClosed)
	case err != nil:
		return fmt.Errorf("forward auth %s: reading its %d: %w: %w", f.url, res.StatusCode, err, errForwardFailed)
	case len(body) > maxAnswerBytes:
		return fmt.Errorf("forward auth %s: its %d has a body over %d bytes: %w", f.url, res.StatusCode, maxAnswerBytes, errForwardFailed)
	}
	why := ErrBadCredentials
	if res.StatusCode == http.StatusForbidden {
		why = ErrNotAllowed
	}
	return &funnel.Answer{Status: res.StatusCode, Header: res.Header, Body: body,
		Err: fmt.Errorf("forward auth %s: answered %d: %w", f.url, res.StatusCode, why)}
}

// failed is what a service that failed to decide means: OnError's
// answer, unless the client went away.
func (f *Forward) failed(r *http.Request, err error) (*reqinfo.Identity, error) {
	if errors.Is(r.Context().Err(), context.Canceled) {
		return nil, fmt.Errorf("forward auth %s: %w: %w", f.url, err, funnel.ErrClientClosed)
	}
	if f.allow {
		f.log.LogAttrs(r.Context(), slog.LevelWarn, "forward auth failed; admitted as on_error allows",
			slog.String("url", f.url), slog.String("error", err.Error()))
		return nil, nil
	}
	return nil, fmt.Errorf("forward auth %s: %w: %w", f.url, err, errForwardFailed)
}

// release ends a subrequest: what is left of a short body is read, so
// the connection can be used again, and a connection that comes back to
// a closed Forward is closed.
func (f *Forward) release(res *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxAnswerBytes))
	res.Body.Close()
	if f.own != nil && f.closed.Load() {
		f.own.CloseIdleConnections()
	}
}

// StripHeader implements Stripper: copies of the CopyHeaders a client
// sent never go upstream.
func (f *Forward) StripHeader(h http.Header) {
	for _, k := range f.copy {
		delete(h, k)
	}
}

// StripURL implements Stripper; forward auth leaves the URL alone.
func (f *Forward) StripURL(*url.URL) {}

var (
	_ Method   = (*Forward)(nil)
	_ Stripper = (*Forward)(nil)
)
