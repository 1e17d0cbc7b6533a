package config

import "time"

// Authenticator is a named way of checking credentials (auth.<name>),
// used by routes' auth.use lists. Exactly one kind is set.
type Authenticator struct {
	Basic  *BasicAuth  `yaml:"basic"`
	APIKey *APIKeyAuth `yaml:"api_key"`
	JWT    *JWTAuth    `yaml:"jwt"`
	// Forward asks an authentication service (nginx auth_request,
	// Traefik forwardAuth).
	Forward *ForwardAuth `yaml:"forward"`
}

// ForwardAuth sends each request's method, target and chosen headers to
// an authentication service: a 2xx admits, a 3xx or 4xx goes back to the
// client as the service sent it.
type ForwardAuth struct {
	// URL is the service: https, or http (an auth service usually runs
	// beside Gatehouse).
	URL string `yaml:"url"`
	// CA is a PEM bundle to verify an https service with instead of the
	// system roots.
	CA string `yaml:"ca"`
	// RequestHeaders are the client's header fields sent along. Default
	// Authorization and Cookie; [] for none.
	RequestHeaders []string `yaml:"request_headers"`
	// UserHeader is the answer's header that names the user.
	UserHeader string `yaml:"user_header"`
	// CopyHeaders are the answer's header fields an admission sets on
	// the request sent upstream.
	CopyHeaders []string `yaml:"copy_headers"`
	// Timeout bounds one subrequest. Default 5s.
	Timeout Duration `yaml:"timeout"`
	// OnError is what a failing service (5xx, timeout, down) means: deny
	// (503, the default) or allow (admit as nobody; optional auth only).
	OnError string `yaml:"on_error"`
	// Cache remembers admissions briefly; absent, none.
	Cache *ForwardAuthCache `yaml:"cache"`
}

// ForwardAuthCache remembers a forward authenticator's admissions.
type ForwardAuthCache struct {
	// TTL is how long. Required.
	TTL Duration `yaml:"ttl"`
	// Key names the request headers whose values identify a session.
	// Default request_headers.
	Key []string `yaml:"key"`
	// MaxEntries bounds what is kept. Default 10000.
	MaxEntries int `yaml:"max_entries"`
}

// JWTAuth checks signed JSON Web Tokens against fixed keys, a JWKS URL,
// or both. The key decides the algorithm, never the token.
type JWTAuth struct {
	// Realm is named in the Bearer challenge. Default "Gatehouse".
	Realm string `yaml:"realm"`
	// Keys are fixed keys: PEM public keys or HMAC secrets.
	Keys []JWTKey `yaml:"keys"`
	// JWKS is an IdP's key set, fetched in the background.
	JWKS *JWKS `yaml:"jwks"`
	// Algorithms, if set, are the only ones accepted, e.g. [RS256].
	Algorithms []string `yaml:"algorithms"`
	// Issuers, if set, are the accepted iss values (exact).
	Issuers []string `yaml:"issuers"`
	// Audiences, if set: the token's aud must hold one of them.
	Audiences []string `yaml:"audiences"`
	// RequireClaims maps a claim to values of which it must hold one
	// (scope and scp as space-separated lists); otherwise 403.
	RequireClaims map[string][]string `yaml:"require_claims"`
	// ExpOptional accepts tokens without exp.
	ExpOptional bool `yaml:"exp_optional"`
	// Leeway is the clock skew allowed on exp, nbf and iat. Default 30s;
	// 0s for none.
	Leeway Duration `yaml:"leeway"`
	// UserClaim is the claim that names the user. Default sub.
	UserClaim string `yaml:"user_claim"`
	// Cookie or Query takes the token from a cookie or a query parameter
	// instead of Authorization: Bearer; at most one.
	Cookie string `yaml:"cookie"`
	Query  string `yaml:"query"`
	// TrustedOrigins may send unsafe cross-origin requests with a cookie
	// token; any other origin gets 403 (cross-site request forgery).
	TrustedOrigins []string `yaml:"trusted_origins"`
	// Forward sends the token upstream; by default it is removed and the
	// backend gets the identity headers.
	Forward bool `yaml:"forward"`
	// CacheFor is how long a token that verified is remembered (until its
	// exp if sooner, and only while the key set is unchanged), so that a
	// client repeating it costs no signature check. Default 1m; 0s never.
	CacheFor Duration `yaml:"cache_for"`
}

// JWTKey is one fixed key: exactly one of file, secret and secret_file.
type JWTKey struct {
	// KID, if set, is the kid of the tokens it checks.
	KID string `yaml:"kid"`
	// File is a PEM public key or certificate (RSA, EC or Ed25519).
	File string `yaml:"file"`
	// Secret is an HMAC secret, at least 32 bytes; write it as
	// ${JWT_SECRET} so that it stays out of the file.
	Secret string `yaml:"secret"`
	// SecretFile holds the secret (a trailing newline is dropped).
	SecretFile string `yaml:"secret_file"`
	// Algorithms the key verifies; default every one its kind allows.
	Algorithms []string `yaml:"algorithms"`
}

// JWKS is a JSON Web Key Set URL and how it is kept. A reload that keeps
// these settings keeps the fetched set.
type JWKS struct {
	// URL is the IdP's jwks_uri: https, or http to a loopback address.
	URL string `yaml:"url"`
	// CA is a PEM bundle to verify the IdP with instead of the system
	// roots.
	CA string `yaml:"ca"`
	// Timeout bounds one fetch. Default 10s.
	Timeout Duration `yaml:"timeout"`
	// Refresh is how long a set is kept when its answer has no max-age;
	// MinRefresh and MaxRefresh bound max-age. Defaults 10m, 1m, 24h.
	Refresh    Duration `yaml:"refresh"`
	MinRefresh Duration `yaml:"min_refresh"`
	MaxRefresh Duration `yaml:"max_refresh"`
	// MissInterval is how often at most an unknown kid fetches the set
	// early. Default 30s.
	MissInterval Duration `yaml:"miss_interval"`
	// Wait bounds how long a request waits for a fetch it needs.
	// Default 2s.
	Wait Duration `yaml:"wait"`
}

// BasicAuth checks HTTP Basic credentials against bcrypt or argon2id
// hashes, never plain text.
type BasicAuth struct {
	// Realm is named in the challenge. Default "Gatehouse".
	Realm string `yaml:"realm"`
	// Users maps user names to hashes (htpasswd -nbB user password).
	Users map[string]string `yaml:"users"`
	// Htpasswd names a file of user:hash lines, read with the config (a
	// reload reads it again).
	Htpasswd string `yaml:"htpasswd"`
}

// APIKeyAuth checks a key sent in a header, a query parameter or a
// cookie against keys stored as SHA-256 digests.
type APIKeyAuth struct {
	// Header, Query or Cookie is where the key is sent; at most one.
	// Default header X-API-Key.
	Header string `yaml:"header"`
	Query  string `yaml:"query"`
	Cookie string `yaml:"cookie"`
	// Keys lists keys; KeysFile names a YAML file with more, a list of
	// the same entries, read with the config.
	Keys     []APIKey `yaml:"keys"`
	KeysFile string   `yaml:"keys_file"`
	// Forward sends the key upstream; by default it is removed.
	Forward bool `yaml:"forward"`
}

// APIKey is one key.
type APIKey struct {
	// SHA256 is the key's SHA-256 in hex: printf %s "$KEY" | sha256sum.
	SHA256 string `yaml:"sha256"`
	// Identity names the holder; it goes upstream as the user.
	Identity string `yaml:"identity"`
	// Routes, if set, are the only routes (by name) the key may call;
	// elsewhere it gets 403.
	Routes []string `yaml:"routes"`
}

// RouteAuth requires authentication on a route (routes[].auth).
type RouteAuth struct {
	// Use names authenticators under auth, tried in order; the first
	// that admits the request wins. Required.
	Use []string `yaml:"use"`
	// UserHeader carries the identity upstream. Default X-Auth-User.
	UserHeader string `yaml:"user_header"`
	// MethodHeader carries the kind that admitted it (basic, api_key,
	// jwt, forward);
	// "" sends none.
	MethodHeader string `yaml:"method_header"`
	// ClaimHeaders maps claims to upstream headers, e.g.
	// {email: X-Auth-Email}.
	ClaimHeaders map[string]string `yaml:"claim_headers"`
	// ClaimsPrefix sends every claim as PREFIX+name, e.g. X-Auth-Claim-.
	ClaimsPrefix string `yaml:"claims_prefix"`
}

func (a *BasicAuth) fillDefaults()  { setZero(&a.Realm, "Gatehouse") }
func (a *RouteAuth) fillDefaults()  { setZero(&a.UserHeader, "X-Auth-User") }
func (a *APIKeyAuth) fillDefaults() {}

func (a *Authenticator) fillDefaults() {
	if a.Basic != nil {
		a.Basic.fillDefaults()
	}
	if a.JWT != nil {
		a.JWT.fillDefaults()
	}
	if a.Forward != nil {
		a.Forward.fillDefaults()
	}
}

func (a *ForwardAuth) fillDefaults() {
	if a.RequestHeaders == nil {
		a.RequestHeaders = []string{"Authorization", "Cookie"}
	}
	setZero(&a.Timeout, Duration(5*time.Second))
	setZero(&a.OnError, "deny")
	if a.Cache != nil {
		a.Cache.fillDefaults()
	}
}

func (c *ForwardAuthCache) fillDefaults() { setZero(&c.MaxEntries, 10000) }

func (a *JWTAuth) fillDefaults() {
	setZero(&a.Realm, "Gatehouse")
	setZero(&a.UserClaim, "sub")
	setZero(&a.Leeway, Duration(30*time.Second))
	setZero(&a.CacheFor, Duration(time.Minute))
	if a.JWKS != nil {
		a.JWKS.fillDefaults()
	}
}

func (j *JWKS) fillDefaults() {
	setZero(&j.Timeout, Duration(10*time.Second))
	setZero(&j.Refresh, Duration(10*time.Minute))
	setZero(&j.MinRefresh, Duration(time.Minute))
	setZero(&j.MaxRefresh, Duration(24*time.Hour))
	setZero(&j.MissInterval, Duration(30*time.Second))
	setZero(&j.Wait, Duration(2*time.Second))
}
