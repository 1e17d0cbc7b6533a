package config

// IPFilter allows or refuses requests by client address (the client
// behind trusted_proxies): in deny → 403; else, with an allow list, not
// in it → 403.
type IPFilter struct {
	// Allow lists addresses or CIDRs; empty allows every address not
	// denied.
	Allow []string `yaml:"allow"`
	// Deny lists addresses or CIDRs; it wins over allow.
	Deny []string `yaml:"deny"`
}

// CORS answers browsers' cross-origin checks for a route
// (routes[].cors): preflights are answered by Gatehouse, allowed origins
// get the Access-Control-* headers, others get none.
type CORS struct {
	// AllowOrigins lists origins: exact (https://app.example.com), a
	// wildcard subdomain (https://*.example.com), a regular expression
	// (~^https://[a-z]+\.example\.org$, anchored), or "*" alone. Required.
	AllowOrigins []string `yaml:"allow_origins"`
	// AllowMethods are what a preflight may ask for. Default GET, HEAD,
	// POST.
	AllowMethods []string `yaml:"allow_methods"`
	// AllowHeaders are the request headers a preflight may ask for;
	// empty allows none beyond the CORS-safelisted ones.
	AllowHeaders []string `yaml:"allow_headers"`
	// ExposeHeaders are response headers scripts may read.
	ExposeHeaders []string `yaml:"expose_headers"`
	// AllowCredentials lets cookies and Authorization be sent; never
	// with "*".
	AllowCredentials bool `yaml:"allow_credentials"`
	// MaxAge is how long a browser may cache a preflight; 0 omits it.
	MaxAge Duration `yaml:"max_age"`
	// AllowPrivateNetwork answers Private Network Access preflights.
	AllowPrivateNetwork bool `yaml:"allow_private_network"`
}

// RequestLimits are per-route limits on the request (routes[].request_limits).
type RequestLimits struct {
	// MaxHeaderBytes bounds the request header (name + value + 4 per
	// field): 431 beyond. 0 = only the listener's max_header_bytes.
	MaxHeaderBytes Size `yaml:"max_header_bytes"`
	// MaxURIBytes bounds the request target as sent: 414 beyond. 0 = no
	// limit of the route's own.
	MaxURIBytes Size `yaml:"max_uri_bytes"`
	// Methods, if set, are the only methods allowed: 405 with Allow for
	// others. GET implies HEAD.
	Methods []string `yaml:"methods"`
}
