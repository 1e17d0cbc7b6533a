package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// APIKey checks a key sent in a header, a query parameter or a cookie
// against keys stored as SHA-256 digests (the keys themselves are never
// in the config). A key has an identity and, optionally, the routes it
// may call: a known key on another route is a 403. Unless Forward is
// set, the key is removed from what goes upstream.
type APIKey struct {
	o         APIKeyOptions
	keys      map[[32]byte]*Key
	challenge string
}

// Key is one API key.
type Key struct {
	// SHA256 is the hex SHA-256 of the key (sha256sum of the key without
	// a newline).
	SHA256 string
	// Identity names the key's holder; it goes upstream as the user.
	Identity string
	// Routes, if set, are the only routes (by name) the key may call.
	Routes []string
}

// APIKeyOptions configure an APIKey method. Exactly one of Header, Query
// and Cookie is set.
type APIKeyOptions struct {
	Header, Query, Cookie string
	Keys                  []Key
	// Forward sends the key upstream as it came.
	Forward bool
}

// NewAPIKey returns an APIKey method, or an error naming a bad key.
func NewAPIKey(o APIKeyOptions) (*APIKey, error) {
	a := &APIKey{o: o, keys: make(map[[32]byte]*Key, len(o.Keys))}
	if o.Header != "" {
		a.o.Header = http.CanonicalHeaderKey(o.Header)
	}
	for i := range o.Keys {
		k := &o.Keys[i]
		sum, err := hex.DecodeString(strings.TrimSpace(k.SHA256))
		if err != nil || len(sum) != sha256.Size {
			return nil, fmt.Errorf("key %q: sha256 is not 64 hex digits", k.Identity)
		}
		if _, dup := a.keys[[32]byte(sum)]; dup {
			return nil, fmt.Errorf("key %q: the same key is listed twice", k.Identity)
		}
		a.keys[[32]byte(sum)] = k
	}
	switch {
	case a.o.Query != "":
		a.challenge = `APIKey query=` + quotedString(a.o.Query)
	case a.o.Cookie != "":
		a.challenge = `APIKey cookie=` + quotedString(a.o.Cookie)
	default:
		a.challenge = `APIKey header=` + quotedString(o.Header) // as configured
	}
	return a, nil
}

// Challenge implements Method. API keys have no registered scheme, but
// a 401 must offer a challenge (RFC 9110 section 11.6.1): APIKey, with
// where the key goes, e.g. APIKey header="X-API-Key".
func (a *APIKey) Challenge() string { return a.challenge }

// Authenticate implements Method.
func (a *APIKey) Authenticate(r *http.Request) (*reqinfo.Identity, error) {
	presented := a.presented(r)
	if presented == "" {
		return nil, fmt.Errorf("api key: %w", ErrNoCredentials)
	}
	// A map lookup by the digest: what its timing could tell is about
	// digests, which say nothing about other keys.
	k, ok := a.keys[sha256.Sum256([]byte(presented))]
	if !ok {
		return nil, fmt.Errorf("api key: unknown key: %w", ErrBadCredentials)
	}
	if route := reqinfo.From(r.Context()).Route; len(k.Routes) > 0 && !slices.Contains(k.Routes, route) {
		return nil, fmt.Errorf("api key %q: allowed on %v, not %q: %w", k.Identity, k.Routes, route, ErrNotAllowed)
	}
	return &reqinfo.Identity{Method: "api_key", User: k.Identity}, nil
}

func (a *APIKey) presented(r *http.Request) string {
	switch {
	case a.o.Header != "":
		return strings.TrimSpace(r.Header.Get(a.o.Header))
	case a.o.Query != "":
		return r.URL.Query().Get(a.o.Query)
	default:
		c, err := r.Cookie(a.o.Cookie)
		if err != nil {
			return ""
		}
		return c.Value
	}
}

// StripHeader implements Stripper: the key does not go upstream unless
// Forward is set.
func (a *APIKey) StripHeader(h http.Header) {
	switch {
	case a.o.Forward:
	case a.o.Header != "":
		delete(h, a.o.Header)
	case a.o.Cookie != "":
		stripCookie(h, a.o.Cookie)
	}
}

// SecretParam is the query parameter keys come in, "" for none: the
// access log never shows its value.
func (a *APIKey) SecretParam() string { return a.o.Query }

// StripURL implements Stripper, for a key in the query.
func (a *APIKey) StripURL(u *url.URL) {
	if !a.o.Forward && a.o.Query != "" {
		stripQuery(u, a.o.Query) // the others kept as sent: order and encoding
	}
}

// stripQuery drops the parameters named name, keeping the others as
// sent (order and encoding).
func stripQuery(u *url.URL, name string) {
	if u.RawQuery == "" {
		return
	}
	var kept []string
	dropped := false
	for part := range strings.SplitSeq(u.RawQuery, "&") {
		n, _, _ := strings.Cut(part, "=")
		if n, err := url.QueryUnescape(n); err == nil && n == name {
			dropped = true
			continue
		}
		kept = append(kept, part)
	}
	if dropped {
		u.RawQuery = strings.Join(kept, "&")
	}
}

// stripCookie removes the cookie name from the Cookie header h carries.
func stripCookie(h http.Header, name string) {
	vs := h["Cookie"]
	if len(vs) == 0 {
		return
	}
	var kept []string
	for _, v := range vs {
		for part := range strings.SplitSeq(v, ";") {
			p := strings.TrimSpace(part)
			if n, _, _ := strings.Cut(p, "="); n != name && p != "" {
				kept = append(kept, p)
			}
		}
	}
	if len(kept) == 0 {
		delete(h, "Cookie")
		return
	}
	h["Cookie"] = []string{strings.Join(kept, "; ")}
}

var _ Method = (*APIKey)(nil)
