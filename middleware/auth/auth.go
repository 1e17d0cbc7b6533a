// Package auth decides who may call a route. A route lists one or more
// methods (basic, API keys, JWT, forward auth); the first that accepts
// the request's credentials admits it, and its identity goes upstream in
// headers the route names. A request no method admits never reaches the
// backend: 401 with every method's WWW-Authenticate challenge, or 403
// when a method knew who it was but that identity may not use the route,
// or, when a method answers for itself (forward auth passes on its
// service's denial), the first such answer.
//
// The identity headers are Gatehouse's to set: whatever a client sends
// under those names (or under the claims prefix) is removed from every
// request of the route, admitted or not, so a backend can trust them.
package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/middleware/wrap"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// A Method checks one kind of credentials.
type Method interface {
	// Authenticate returns who r's credentials say it is. It returns an
	// error wrapping ErrNoCredentials when r carries none of this kind,
	// ErrBadCredentials when they are wrong, and ErrNotAllowed when they
	// are right but not for this route. An error carrying a
	// *funnel.Answer is the method's own answer to the client, given
	// instead of the generic 401 or 403 when no method admits. A nil
	// identity with a nil error admits r as nobody in particular
	// (forward auth whose service failed, with OnError "allow"). Safe
	// for concurrent use.
	Authenticate(r *http.Request) (*reqinfo.Identity, error)
	// Challenge is the WWW-Authenticate value a 401 offers for this
	// method; "" for none.
	Challenge() string
}

// ErrorChallenger is implemented by a method whose challenge depends on
// what was wrong (RFC 6750 section 3.1: error="invalid_token" for a bad
// token, error="insufficient_scope" for one without the scope, no error
// code when none was sent). ChallengeFor gets the method's own error
// and returns the challenge for it, "" for none; it replaces Challenge
// on 401s, and adds one to the 403 of an identity it did not allow.
type ErrorChallenger interface {
	ChallengeFor(err error) string
}

// Stripper is implemented by a method whose credentials must not go
// upstream (an API key in a header, a cookie or the query): it removes
// them from the outbound header and URL.
type Stripper interface {
	StripHeader(h http.Header)
	StripURL(u *url.URL)
}

var (
	// ErrNoCredentials: the request has no credentials for the method.
	ErrNoCredentials = errors.New("no credentials")
	// ErrBadCredentials: the credentials are wrong, expired or unknown.
	ErrBadCredentials = errors.New("bad credentials")
	// ErrNotAllowed: the identity is known but may not use the route.
	ErrNotAllowed = errors.New("not allowed on this route")
)

// Options configure a route's authentication. Validated by config.
type Options struct {
	// Methods are tried in order; the first that admits wins.
	Methods []Method
	// UserHeader carries the identity's User upstream, e.g. X-Auth-User;
	// "" sends none.
	UserHeader string
	// MethodHeader carries the method that admitted it; "" sends none.
	MethodHeader string
	// ClaimHeaders maps a claim to the header that carries it upstream,
	// e.g. {"email": "X-Auth-Email"}.
	ClaimHeaders map[string]string
	// ClaimsPrefix, if set, sends every claim as PREFIX+claim
	// (X-Auth-Claim-Scope); the client's own headers with that prefix
	// are removed.
	ClaimsPrefix string
}

// New returns the middleware, or nil when there are no methods.
// Refusals go to fail.
func New(o Options, fail func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	if len(o.Methods) == 0 {
		return nil
	}
	h := &handler{o: o, fail: fail}
	for _, n := range []string{o.UserHeader, o.MethodHeader} {
		if n != "" {
			h.strip = append(h.strip, http.CanonicalHeaderKey(n))
		}
	}
	for _, n := range o.ClaimHeaders {
		h.strip = append(h.strip, http.CanonicalHeaderKey(n))
	}
	h.prefix = http.CanonicalHeaderKey(o.ClaimsPrefix)
	for _, m := range o.Methods {
		h.challenges = append(h.challenges, m.Challenge())
		if s, ok := m.(Stripper); ok {
			h.strippers = append(h.strippers, s)
		}
		if q, ok := m.(interface{ SecretParam() string }); ok && q.SecretParam() != "" {
			h.secretParams = append(h.secretParams, q.SecretParam())
		}
	}
	return func(next http.Handler) http.Handler {
		h := *h
		h.next = next
		return &h
	}
}

type handler struct {
	o          Options
	strip      []string // identity headers a client may not send
	prefix     string
	challenges []string // by method, "" for none
	strippers  []Stripper
	// secretParams are the query parameters keys come in, never logged.
	secretParams []string
	fail         func(http.ResponseWriter, *http.Request, error)
	next         http.Handler
}

// errUnauthorized and errForbidden say no more to the client than that.
var (
	errUnauthorized = funnel.ErrUnauthorized
	errForbidden    = &funnel.Class{Status: http.StatusForbidden, Message: "forbidden: these credentials may not use this route"}
)

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info := reqinfo.From(r.Context())
	if h.secretParams != nil {
		info.SecretParams = append(info.SecretParams, h.secretParams...)
	}
	var why []error
	var buf [4]error
	errs := buf[:0] // each method's, for the challenges; no allocation for up to 4
	forbidden, answered := false, false
	for _, m := range h.o.Methods {
		id, err := m.Authenticate(r)
		errs = append(errs, err)
		if err == nil {
			info.Identity = id
			info.AddOutbound(&outbound{h: h, id: id})
			if q, ok := m.(interface{ SecretParam() string }); ok && q.SecretParam() != "" && r.URL.Query().Has(q.SecretParam()) {
				// RFC 6750 2.3: an answer to a request whose credentials
				// were in its URL is not for shared caches.
				pw := &privateWriter{}
				pw.Reset(w, pw)
				w = pw
			}
			h.next.ServeHTTP(w, r)
			return
		}
		if errors.Is(err, ErrNotAllowed) {
			forbidden = true
		}
		answer := errors.As(err, new(*funnel.Answer))
		answered = answered || answer
		if answer || !errors.Is(err, ErrNoCredentials) || len(h.o.Methods) == 1 {
			why = append(why, err)
		}
	}
	if answered {
		// The funnel writes the first answer in the chain: the first
		// method's that answered for itself.
		h.fail(w, r, errors.Join(why...))
		return
	}
	if forbidden {
		err := fmt.Errorf("%w: %w", errors.Join(why...), errForbidden)
		for i, m := range h.o.Methods {
			if ec, ok := m.(ErrorChallenger); ok && errors.Is(errs[i], ErrNotAllowed) {
				if c := ec.ChallengeFor(errs[i]); c != "" {
					err = funnel.WithHeader(err, "WWW-Authenticate", c)
				}
			}
		}
		h.fail(w, r, err)
		return
	}
	err := fmt.Errorf("%w: %w", reason(why), errUnauthorized)
	for i, m := range h.o.Methods {
		c := h.challenges[i]
		if ec, ok := m.(ErrorChallenger); ok {
			c = ec.ChallengeFor(errs[i])
		}
		if c != "" {
			err = funnel.WithHeader(err, "WWW-Authenticate", c)
		}
	}
	h.fail(w, r, err)
}

func reason(why []error) error {
	if len(why) == 0 {
		return ErrNoCredentials
	}
	return errors.Join(why...)
}

// outbound sets the identity headers on the request sent upstream, after
// removing any the client sent, and lets the methods remove their
// credentials. The identity's own Headers come before the route's
// identity headers, which win. A nil id (admitted as nobody) only
// removes.
type outbound struct {
	h  *handler
	id *reqinfo.Identity
}

func (e *outbound) EditOutbound(hd http.Header, r *http.Request) {
	h := e.h
	for _, n := range h.strip {
		delete(hd, n)
	}
	if h.prefix != "" {
		for k := range hd {
			if strings.HasPrefix(k, h.prefix) {
				delete(hd, k)
			}
		}
	}
	for _, s := range h.strippers {
		s.StripHeader(hd)
	}
	if e.id == nil {
		return
	}
	for k, vv := range e.id.Headers {
		hd[k] = vv
	}
	if h.o.UserHeader != "" && e.id.User != "" {
		hd[http.CanonicalHeaderKey(h.o.UserHeader)] = []string{clean(e.id.User)}
	}
	if h.o.MethodHeader != "" {
		hd[http.CanonicalHeaderKey(h.o.MethodHeader)] = []string{e.id.Method}
	}
	for claim, name := range h.o.ClaimHeaders {
		if v, ok := e.id.Claims[claim]; ok {
			hd[http.CanonicalHeaderKey(name)] = []string{clean(v)}
		}
	}
	if h.prefix != "" {
		for claim, v := range e.id.Claims {
			if isToken(claim) {
				hd[http.CanonicalHeaderKey(h.o.ClaimsPrefix+claim)] = []string{clean(v)}
			}
		}
	}
}

// EditOutboundURL implements reqinfo.URLEditor.
func (e *outbound) EditOutboundURL(u *url.URL) {
	for _, s := range e.h.strippers {
		s.StripURL(u)
	}
}

// clean replaces the control characters a header value may not hold (a
// claim is the token issuer's text, not ours) with spaces.
func clean(v string) string {
	if strings.IndexFunc(v, isCTL) < 0 {
		return v
	}
	return strings.Map(func(r rune) rune {
		if isCTL(r) {
			return ' '
		}
		return r
	}, v)
}

func isCTL(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }

// isToken reports whether s can be part of a header name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// privateWriter marks a 2xx answer Cache-Control: private (dropping
// public and s-maxage, which would contradict it), unless it is private
// or no-store already.
type privateWriter struct{ wrap.Writer }

func (w *privateWriter) BeforeHeader(status int) {
	if status < 200 || status > 299 {
		return
	}
	h := w.Header()
	kept := []string{"private"}
	for _, v := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(v, ",") {
			d = strings.TrimSpace(d)
			name, _, _ := strings.Cut(strings.ToLower(d), "=")
			switch name {
			case "private", "no-store":
				return
			case "public", "s-maxage", "":
				continue
			}
			kept = append(kept, d)
		}
	}
	h["Cache-Control"] = []string{strings.Join(kept, ", ")}
}

var _ wrap.Hooks = (*privateWriter)(nil)
