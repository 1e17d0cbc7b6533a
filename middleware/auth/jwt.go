package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// JWT checks a signed JSON Web Token (RFC 7519): a bearer token in the
// Authorization header (RFC 6750 section 2.1), or the value of a cookie
// or a query parameter.
//
// The key decides the algorithm, never the token: every key carries the
// algorithms it may verify (its own kind only: an HMAC secret HS*, an
// RSA key RS* and PS*, an EC key the ES* of its curve, an Ed25519 key
// EdDSA), and a token is checked only against keys that accept its alg.
// "none" is accepted by no key, and an HMAC secret can never be given a
// public key to verify with, so algorithm confusion cannot happen.
//
// A token that does not verify, is expired (exp is required unless
// ExpOptional), not yet valid (nbf), issued in the future (iat), or has
// the wrong iss or aud is ErrBadCredentials (401), and so is one that is
// not strictly a JWS with a JSON claims set (checkCompact, checkHeader,
// checkRegistered: requirements.md lists the RFC rules each enforces);
// one that verifies but
// lacks a RequireClaims value is ErrNotAllowed (403, RFC 6750's
// insufficient_scope). Unless Forward is set, the token is removed from
// what goes upstream: the backend gets the identity headers instead.
//
// Keys are fixed (PEM public keys, HMAC secrets) or come from a JWKS URL
// fetched in the background: kept for the answer's max-age (bounded),
// fetched again early for a kid it does not know (at most once per
// MissInterval), and kept when a fetch fails. Until the first fetch has
// answered, a token waits at most JWKSOptions.Wait and is then refused
// as bad credentials. Close stops the fetching.
type JWT struct {
	o       JWTOptions
	keys    []*verifyKey
	jwks    *jwks
	ownJWKS bool // jwks is this method's, closed with it
	parser  *jwt.Parser
	csrf    *http.CrossOriginProtection // for a cookie token; nil otherwise
	seen    *verified                   // nil when CacheFor is negative
	allowed []string
}

// JWTOptions configure a JWT method. At least one of Keys and JWKS.URL
// is set; at most one of Cookie and Query.
type JWTOptions struct {
	// Realm is sent in the challenge. Default "Gatehouse".
	Realm string
	// Keys are fixed keys, checked before the key set.
	Keys []JWTKey
	// JWKS is a key set fetched in the background for this method alone
	// (Close stops it); its URL "" for none.
	JWKS JWKSOptions
	// KeySet is a key set shared with other methods (or runtimes), which
	// its owner closes; nil for none. At most one of KeySet and JWKS.URL.
	KeySet *KeySet
	// Algorithms, if set, are the only ones accepted from any key, e.g.
	// [RS256]; default every one a key allows.
	Algorithms []string
	// Issuers, if set, are the accepted iss values (exact match).
	Issuers []string
	// Audiences, if set: the token's aud must contain one of them.
	Audiences []string
	// RequireClaims maps a claim to the values of which it must hold
	// one: a string claim equal to one, an array claim containing one,
	// and for scope and scp (space-separated lists) one of the listed
	// scopes. Every claim listed must match. A valid token that does not
	// is ErrNotAllowed.
	RequireClaims map[string][]string
	// ExpOptional accepts tokens without exp (they never expire).
	ExpOptional bool
	// Leeway is the clock skew allowed on exp, nbf and iat: default
	// 30 s, negative for none.
	Leeway time.Duration
	// UserClaim names the claim that is the identity's User; default
	// "sub". A token without it is refused.
	UserClaim string
	// Cookie takes the token from this cookie instead of the
	// Authorization header. A browser sends a cookie with requests other
	// sites make it send, so an unsafe method (not GET, HEAD, OPTIONS)
	// from another origin (by Sec-Fetch-Site, or Origin against Host) is
	// refused as forbidden: cross-site request forgery (RFC 6750 5.3),
	// checked by net/http's CrossOriginProtection.
	Cookie string
	// TrustedOrigins may send unsafe cross-origin requests with the
	// cookie anyway, e.g. https://app.example.com (those a route's CORS
	// policy allows with credentials).
	TrustedOrigins []string
	// Query takes the token from this query parameter instead; its value
	// is never written to the access log.
	Query string
	// Forward sends the token upstream as it came.
	Forward bool
	// CacheFor is how long at most a token that verified is remembered
	// (until its exp, if sooner), so that repeating it costs no
	// signature check; default 1 minute, negative for never.
	CacheFor time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger gets the key set's fetch failures; nil discards them.
	Logger *slog.Logger
}

// JWTKey is one fixed key: exactly one of PEM and Secret.
type JWTKey struct {
	// ID, if set, is the kid of the tokens it checks (tokens without a
	// kid are checked against every key); "" checks any kid.
	ID string
	// PEM is a public key: a PUBLIC KEY (RSA, EC or Ed25519), an RSA
	// PUBLIC KEY or a CERTIFICATE block. Private keys are refused.
	PEM []byte
	// Secret is an HMAC key, at least as long as the hash (32 bytes for
	// HS256, 48 for HS384, 64 for HS512; RFC 7518 section 3.2).
	Secret []byte
	// Algorithms the key verifies; default every one its kind (and, for
	// a secret, its length) allows.
	Algorithms []string
}

// errCrossOrigin marks a cookie token refused as a forged cross-site
// request.
var errCrossOrigin = errors.New("cross-site request forgery")

// maxTokenBytes bounds a token; real ones are a few hundred bytes to a
// few KiB.
const maxTokenBytes = 16 << 10

// maxKeysTried bounds the signature checks one token costs when its kid
// does not pick one key.
const maxKeysTried = 8

// NewJWT returns a JWT method, or an error naming a bad key or option.
// With a JWKS URL it starts fetching at once; Close stops that.
func NewJWT(o JWTOptions) (*JWT, error) {
	a, err := compileJWT(o)
	if err != nil {
		return nil, err
	}
	switch {
	case o.KeySet != nil:
		a.jwks = o.KeySet.j
	case o.JWKS.URL != "":
		a.jwks = newJWKS(o.JWKS, a.o.Now, a.o.Logger)
		a.ownJWKS = true
	}
	return a, nil
}

// CheckJWT reports the error NewJWT(o) would return, without fetching
// anything: what config validation calls.
func CheckJWT(o JWTOptions) error {
	_, err := compileJWT(o)
	return err
}

func compileJWT(o JWTOptions) (*JWT, error) {
	if o.Realm == "" {
		o.Realm = "Gatehouse"
	}
	if o.UserClaim == "" {
		o.UserClaim = "sub"
	}
	switch {
	case o.Leeway == 0:
		o.Leeway = 30 * time.Second
	case o.Leeway < 0:
		o.Leeway = 0
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := checkRealm(o.Realm); err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	if o.Cookie != "" && o.Query != "" {
		return nil, errors.New("jwt: the token comes from a cookie or a query parameter, not both")
	}
	if len(o.Keys) == 0 && o.JWKS.URL == "" && o.KeySet == nil {
		return nil, errors.New("jwt: no keys and no JWKS URL")
	}
	if o.JWKS.URL != "" && o.KeySet != nil {
		return nil, errors.New("jwt: a JWKS URL and a shared key set; give one")
	}
	for _, alg := range o.Algorithms {
		if !slices.Contains(allAlgorithms, alg) {
			return nil, fmt.Errorf("jwt: algorithm %q is not one of %v", alg, allAlgorithms)
		}
	}
	a := &JWT{o: o, allowed: o.Algorithms}
	if a.allowed == nil {
		a.allowed = allAlgorithms
	}
	for i, k := range o.Keys {
		vk, err := staticKey(k)
		if err != nil {
			return nil, fmt.Errorf("jwt: key %d (%q): %w", i+1, k.ID, err)
		}
		a.keys = append(a.keys, vk)
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods(a.allowed), jwt.WithJSONNumber(), jwt.WithStrictDecoding(),
		jwt.WithLeeway(o.Leeway), jwt.WithTimeFunc(o.Now), jwt.WithIssuedAt()}
	if !o.ExpOptional {
		opts = append(opts, jwt.WithExpirationRequired())
	}
	if len(o.Audiences) > 0 {
		opts = append(opts, jwt.WithAudience(o.Audiences...))
	}
	a.parser = jwt.NewParser(opts...)
	switch {
	case o.CacheFor == 0:
		a.seen = newVerified(time.Minute)
	case o.CacheFor > 0:
		a.seen = newVerified(o.CacheFor)
	}
	if o.Cookie != "" {
		a.csrf = http.NewCrossOriginProtection()
		for _, origin := range o.TrustedOrigins {
			if err := a.csrf.AddTrustedOrigin(origin); err != nil {
				return nil, fmt.Errorf("jwt: trusted origin %q: %w", origin, err)
			}
		}
	} else if len(o.TrustedOrigins) > 0 {
		return nil, errors.New("jwt: trusted origins apply to a token in a cookie only")
	}
	return a, nil
}

// Close stops fetching the key set JWKS.URL named (a shared KeySet is
// its owner's to close). Safe to call more than once.
func (a *JWT) Close() error {
	if a.ownJWKS {
		a.jwks.close()
	}
	return nil
}

// Challenge implements Method: the challenge without an error code.
func (a *JWT) Challenge() string { return `Bearer realm=` + quotedString(a.o.Realm) }

// ChallengeFor implements ErrorChallenger (RFC 6750 section 3.1): no
// error code when no token was sent, insufficient_scope for a valid
// token without the required claims, invalid_token for any other. The
// reason itself is logged, never told.
func (a *JWT) ChallengeFor(err error) string {
	switch {
	case err == nil || errors.Is(err, ErrNoCredentials):
		return a.Challenge()
	case errors.Is(err, errCrossOrigin):
		return "" // no token would help
	case errors.Is(err, ErrNotAllowed):
		return a.Challenge() + `, error="insufficient_scope"`
	}
	return a.Challenge() + `, error="invalid_token"`
}

// Authenticate implements Method.
func (a *JWT) Authenticate(r *http.Request) (*reqinfo.Identity, error) {
	raw, err := a.presented(r)
	if err != nil {
		return nil, err
	}
	if a.csrf != nil {
		if err := a.csrf.Check(r); err != nil {
			return nil, fmt.Errorf("jwt: the %s cookie came with a cross-origin %s request (%w): %w: %w", a.o.Cookie, r.Method, err, errCrossOrigin, ErrNotAllowed)
		}
	}
	var digest [32]byte
	var set *keySet // the key set current before the check
	if a.jwks != nil {
		set = a.jwks.set.Load()
	}
	if a.seen != nil {
		var id *reqinfo.Identity
		var ok bool
		if id, digest, ok = a.seen.get(raw, a.o.Now(), set); ok {
			if a.jwks != nil {
				a.jwks.refreshIfStale() // as a lookup would have
			}
			return id, nil
		}
	}
	if err := checkCompact(raw); err != nil {
		return nil, fmt.Errorf("jwt: %w: %w", err, ErrBadCredentials)
	}
	claims := jwt.MapClaims{}
	if _, err := a.parser.ParseWithClaims(raw, claims, a.keyfunc(r.Context())); err != nil {
		return nil, fmt.Errorf("jwt: %w: %w", err, ErrBadCredentials)
	}
	if err := checkRegistered(claims); err != nil {
		return nil, fmt.Errorf("jwt: %w: %w", err, ErrBadCredentials)
	}
	if _, has := claims["aud"]; has && len(a.o.Audiences) == 0 {
		// RFC 7519 4.1.3: a recipient that cannot find itself in a
		// present aud rejects the token; one naming no audience can't.
		return nil, fmt.Errorf("jwt: the token is for audience %v and this authenticator names none (set audiences): %w", claims["aud"], ErrBadCredentials)
	}
	if len(a.o.Issuers) > 0 {
		if iss, _ := claims["iss"].(string); !slices.Contains(a.o.Issuers, iss) {
			return nil, fmt.Errorf("jwt: issuer %q is not one of %q: %w", iss, a.o.Issuers, ErrBadCredentials)
		}
	}
	user, ok := flatten(claims[a.o.UserClaim])
	if !ok || user == "" {
		return nil, fmt.Errorf("jwt: the token has no %s claim: %w", a.o.UserClaim, ErrBadCredentials)
	}
	for name, want := range a.o.RequireClaims {
		if !claimHolds(name, claims[name], want) {
			return nil, fmt.Errorf("jwt: user %q: claim %s holds none of %q: %w", user, name, want, ErrNotAllowed)
		}
	}
	id := &reqinfo.Identity{Method: "jwt", User: user, Claims: make(map[string]string, len(claims))}
	for name, v := range claims {
		if s, ok := flatten(v); ok {
			id.Claims[name] = s
		}
	}
	if a.seen != nil {
		var exp time.Time
		if e, err := claims.GetExpirationTime(); err == nil && e != nil {
			exp = e.Add(a.o.Leeway)
		}
		if a.jwks == nil || a.jwks.set.Load() == set { // not fetched meanwhile
			a.seen.put(digest, id, a.o.Now(), exp, set)
		}
	}
	return id, nil
}

// keyfunc picks the keys that may verify t: of its kid (or any, when it
// has none) and accepting its alg. A kid no fixed key has is looked up
// in the key set, which fetches it again (rate-limited) if it does not
// know it either.
func (a *JWT) keyfunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if err := checkHeader(t.Header); err != nil {
			return nil, err
		}
		alg := t.Method.Alg()
		if m := strictMethod(alg); m != nil {
			t.Method = m
		}
		kid, _ := t.Header["kid"].(string)
		var found []*verifyKey
		named := false
		for _, k := range a.keys {
			if kid == "" || k.id == "" || k.id == kid {
				found = append(found, k)
				named = named || kid != "" && k.id == kid
			}
		}
		var lookupErr error
		if a.jwks != nil && !named {
			ks, err := a.jwks.keys(ctx, kid)
			found, lookupErr = append(found, ks...), err
		}
		var set jwt.VerificationKeySet
		for _, k := range found {
			if slices.Contains(k.algs, alg) && len(set.Keys) < maxKeysTried {
				set.Keys = append(set.Keys, k.key)
			}
		}
		switch {
		case len(set.Keys) > 0:
			return set, nil
		case lookupErr != nil:
			return nil, lookupErr
		case kid != "" && len(found) == 0:
			return nil, fmt.Errorf("no key has kid %q", kid)
		}
		if kid != "" {
			return nil, fmt.Errorf("key %q does not verify %s", kid, alg)
		}
		return nil, fmt.Errorf("no key verifies %s", alg)
	}
}

// StripHeader implements Stripper: the token does not go upstream
// unless Forward is set.
func (a *JWT) StripHeader(h http.Header) {
	switch {
	case a.o.Forward, a.o.Query != "":
	case a.o.Cookie != "":
		stripCookie(h, a.o.Cookie)
	default:
		if _, ok := bearer(h.Get("Authorization")); ok {
			delete(h, "Authorization")
		}
	}
}

// StripURL implements Stripper, for a token in the query.
func (a *JWT) StripURL(u *url.URL) {
	if !a.o.Forward && a.o.Query != "" {
		stripQuery(u, a.o.Query)
	}
}

// SecretParam is the query parameter tokens come in, "" for none: the
// access log never shows its value.
func (a *JWT) SecretParam() string { return a.o.Query }

var (
	_ Method          = (*JWT)(nil)
	_ Stripper        = (*JWT)(nil)
	_ ErrorChallenger = (*JWT)(nil)
)
