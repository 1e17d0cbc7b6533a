package config

// Authenticator is a named way of checking credentials (auth.<name>),
// used by routes' auth.use lists. Exactly one kind is set.
type Authenticator struct {
	Basic  *BasicAuth  `yaml:"basic"`
	APIKey *APIKeyAuth `yaml:"api_key"`
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
	// MethodHeader carries the kind that admitted it (basic, api_key);
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
}
