// Package config holds Gatehouse's configuration as plain data: the structs a
// YAML file decodes into, strict loading that reports every problem with file,
// line and column, and Validate. It knows nothing about how the config is run;
// package runtime compiles a validated Config into live objects.
//
// Scalar values (never keys) may refer to the environment: ${NAME} is the
// variable's value (an error if unset), ${NAME:-default} falls back when it
// is unset or empty, and $$ is a literal $. References are expanded before
// the value is converted, so "weight: ${W}" works; inside a flow collection
// ({...} or [...]) quote such a value, since YAML reads its braces. Anchors,
// aliases and merge keys ("<<: *base") work as in YAML. A null value ("key:"
// or "~") is the same as leaving the key out.
package config

// Config is one whole configuration file. The zero value is not useful; use
// Load (or LoadFile), which fills in the documented defaults and validates,
// or build one in code from Default and call ApplyDefaults and Validate.
// A Config is plain data: apart from ApplyDefaults its methods only read it,
// so a Config that is no longer modified is safe for concurrent use.
type Config struct {
	// Listeners are the addresses Gatehouse accepts connections on. At least one.
	Listeners []Listener `yaml:"listeners"`
	// TrustedProxies lists the peers (CIDRs or single IPs) whose X-Forwarded-*
	// and Forwarded headers are believed. From anyone else they are replaced.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// TrustedHops, if above 0, counts instead of matching addresses: it is
	// the number of proxies in front of Gatehouse that append to
	// X-Forwarded-For (the peer included), and the client is that many
	// entries from the right. TrustedProxies still decides whether the
	// peer's headers are believed at all, so it must not be empty; a header
	// with fewer entries is not believed. 0 (the default) walks the header
	// by address; at most 16. See package clientip.
	TrustedHops int `yaml:"trusted_hops"`
	// Forwarding controls the headers added to requests sent to upstreams.
	Forwarding Forwarding `yaml:"forwarding"`
	// TLS holds the certificates (files and ACME) that every listener with
	// a tls block serves, chosen by SNI, and the HSTS policy.
	TLS TLS `yaml:"tls"`
	// Limits apply to every request before it is routed.
	Limits Limits `yaml:"limits"`
	// Log selects the format and destination of the error and access logs.
	Log Log `yaml:"log"`
	// Reload controls live reloading besides SIGHUP.
	Reload Reload `yaml:"reload"`
	// Upstreams are named pools of targets, referenced by routes.
	Upstreams map[string]*Upstream `yaml:"upstreams"`
	// Caches are named response stores, referenced by routes' cache
	// blocks.
	Caches map[string]*Cache `yaml:"caches"`
	// RateLimits are named stores of rate-limit state, referenced by
	// routes' rate_limit entries; a limit naming none counts in this
	// instance's memory.
	RateLimits map[string]*RateLimitStore `yaml:"rate_limits"`
	// Authenticators are named ways of checking credentials, used by
	// routes' auth blocks.
	Authenticators map[string]*Authenticator `yaml:"authenticators"`
	// Routes map requests to an action. Order does not matter: the most
	// specific host, then the longest path prefix, wins (see the README).
	Routes []Route `yaml:"routes"`
	// DefaultRoute handles requests no route matches. Nil means 404. It must
	// not have a match block.
	DefaultRoute *Route `yaml:"default_route"`

	// positions of every decoded node, keyed by path ("routes[2].upstream").
	// Set by Load; nil for a Config built in code.
	pos map[string]Pos
	// file the config was loaded from, for messages.
	file string
	// engine is the default of listeners' engine (GATEHOUSE_ENGINE);
	// "" means gatehouse.
	engine string
}

// Listener is one address to accept HTTP connections on.
type Listener struct {
	// Name identifies the listener in logs. Defaults to the address.
	Name string `yaml:"name"`
	// Address is host:port, e.g. ":8080" or "127.0.0.1:8080". Port 0 picks
	// any free port (for tests; the log says which).
	Address string `yaml:"address"`
	// ReadHeaderTimeout bounds how long a client may take to send request
	// headers (slowloris). Default 10s.
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	// ReadTimeout bounds reading a whole request including the body. 0 means
	// no limit (the default, so large uploads work); bodies are streamed.
	ReadTimeout Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing a response. 0 (default) means none, so
	// long downloads and server-sent events work.
	WriteTimeout Duration `yaml:"write_timeout"`
	// ClientBodyTimeout bounds each pause while a client sends its request
	// body (408 beyond); SendTimeout each pause while a client takes the
	// response (the connection is closed beyond). They stop a slow client
	// from holding a connection to a target, while uploads, downloads and
	// streams of any length still work. Default 60s each, as in nginx; 0
	// means no limit.
	ClientBodyTimeout Duration `yaml:"client_body_timeout"`
	SendTimeout       Duration `yaml:"send_timeout"`
	// IdleTimeout closes keep-alive connections idle this long. Default 120s.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes limits the request line plus headers. Default 64KiB;
	// larger requests get 431.
	MaxHeaderBytes Size `yaml:"max_header_bytes"`
	// MaxHeaderCount limits the number of request header fields (431
	// beyond). Default 100. The stdlib engine has no such limit (only
	// max_header_bytes).
	MaxHeaderCount int `yaml:"max_header_count"`
	// Engine serves HTTP/1.1 on this listener: "gatehouse" (the default,
	// Gatehouse's own engine) or "stdlib" (Go's net/http server, the way
	// back). HTTP/2 and HTTP/3 are served the same either way. The
	// environment variable GATEHOUSE_ENGINE sets the default for every
	// listener that does not say.
	Engine string `yaml:"engine"`
	// IPFilter allows or refuses every request of this listener by client
	// address (behind trusted_proxies), before routing: 403. Nil means
	// any address; routes may filter further.
	IPFilter *IPFilter `yaml:"ip_filter"`

	// TLS makes this an HTTPS listener serving the certificates of the
	// top-level tls section; "tls: {}" uses the secure defaults. Nil means
	// plain HTTP.
	TLS *ListenerTLS `yaml:"tls"`
	// H2C accepts cleartext HTTP/2 with prior knowledge on a plain HTTP
	// listener (for gRPC clients inside a trusted network). Default off.
	H2C bool `yaml:"h2c"`
	// HTTP3 also serves HTTP/3 over QUIC on the same port number (UDP) of a
	// TLS listener and advertises it with Alt-Svc. Default off.
	HTTP3 bool `yaml:"http3"`
	// RedirectHTTPS makes a plain HTTP listener answer 308 with the https
	// URL (path and query kept) for every host that has a certificate,
	// except ACME HTTP-01 challenge paths. Default true; it does nothing
	// when no listener has TLS.
	RedirectHTTPS bool `yaml:"redirect_https"`
}

// TLS is the top-level certificate configuration.
type TLS struct {
	// Certificates are PEM files, chosen by SNI among their names (exact
	// before wildcard). A client sending no SNI gets the first one.
	Certificates []Certificate `yaml:"certificates"`
	// ACME obtains and renews certificates automatically. Nil disables.
	ACME *ACME `yaml:"acme"`
	// HSTS adds Strict-Transport-Security to HTTPS responses for the hosts
	// each entry lists (never to plain HTTP responses, per RFC 6797).
	HSTS []HSTS `yaml:"hsts"`
}

// Certificate is one certificate and key, each a PEM file (relative to the
// working directory unless absolute). The files are read again on reload
// and when they change on disk.
type Certificate struct {
	// Cert is the certificate chain, leaf first. Key is its private key.
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	// Names, if set, are the host names (exact or "*.example.com") this
	// certificate is served for; each must be covered by the certificate,
	// or the config is refused. Empty means the certificate's own names.
	Names Strings `yaml:"names"`
}

// ACME configures automatic certificates (RFC 8555), managed by certmagic.
type ACME struct {
	// Domains are the names to obtain certificates for; no wildcards
	// (they need the DNS-01 challenge, which Gatehouse does not do).
	Domains Strings `yaml:"domains"`
	// Email is the account contact the CA warns about expiry. Optional.
	Email string `yaml:"email"`
	// Directory is the CA's ACME directory URL. Default Let's Encrypt
	// production, https://acme-v02.api.letsencrypt.org/directory.
	Directory string `yaml:"directory"`
	// CARoot is a PEM bundle to trust for the directory's HTTPS instead of
	// the system roots (for a private or test CA such as Pebble).
	CARoot string `yaml:"ca_root"`
	// Storage is the directory holding accounts, certificates and locks,
	// relative to the working directory unless absolute. Several instances
	// may share it; only one of them then asks the CA for a given name.
	// Default "gatehouse-data".
	Storage string `yaml:"storage"`
	// Challenges are the challenge types to use: http-01 (answered on plain
	// HTTP listeners, which must be reachable on port 80 from the CA) and
	// tls-alpn-01 (answered on TLS listeners, port 443). Default both.
	Challenges Strings `yaml:"challenges"`
	// RenewCheckInterval is how often certificates are checked for renewal;
	// each is renewed once a third of its lifetime remains. Default 10m.
	RenewCheckInterval Duration `yaml:"renew_check_interval"`
	// OCSPStapling staples OCSP responses to handshakes when the CA offers
	// them. Default true.
	OCSPStapling bool `yaml:"ocsp_stapling"`
}

// HSTS is one Strict-Transport-Security policy.
type HSTS struct {
	// Hosts the policy applies to: exact or "*.example.com".
	Hosts Strings `yaml:"hosts"`
	// MaxAge is how long browsers remember to use HTTPS only. Default
	// 8760h (one year); whole seconds.
	MaxAge Duration `yaml:"max_age"`
	// IncludeSubdomains and Preload add those directives.
	IncludeSubdomains bool `yaml:"include_subdomains"`
	Preload           bool `yaml:"preload"`
}

// ListenerTLS configures the TLS side of one listener. The defaults need no
// tuning: TLS 1.2 and 1.3, AEAD cipher suites with forward secrecy only,
// X25519 (with ML-KEM where the client offers it), P-256 and P-384, and
// session resumption.
type ListenerTLS struct {
	// MinVersion is "1.2" (default) or "1.3"; MaxVersion "1.2" or "1.3"
	// (default).
	MinVersion string `yaml:"min_version"`
	MaxVersion string `yaml:"max_version"`
	// Ciphers overrides the TLS 1.2 cipher suites, by their IANA names
	// (e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256). TLS 1.3 suites are not
	// configurable. Insecure suites are refused.
	Ciphers Strings `yaml:"ciphers"`
	// Curves overrides the key exchange groups: X25519MLKEM768, X25519,
	// P256, P384, P521.
	Curves Strings `yaml:"curves"`
	// HTTP2 offers HTTP/2 by ALPN. Default true.
	HTTP2 bool `yaml:"http2"`
	// ClientAuth asks clients for certificates (mutual TLS). Nil means
	// none are asked for.
	ClientAuth *ClientAuth `yaml:"client_auth"`
}

// ClientAuth configures client certificates on a listener.
type ClientAuth struct {
	// Mode is "require" (default): the handshake fails without a
	// certificate that verifies against CA; or "request": a certificate is
	// asked for, and one that is missing or does not verify is passed on
	// as unverified (routes with client_auth then refuse it).
	Mode string `yaml:"mode"`
	// CA is a PEM bundle of the authorities client certificates must chain
	// to. Required for mode require; optional for request (without it no
	// certificate counts as verified on this listener).
	CA string `yaml:"ca"`
}

// Forwarding controls the headers Gatehouse adds to proxied requests.
type Forwarding struct {
	// Forwarded adds the RFC 7239 Forwarded header besides X-Forwarded-*.
	Forwarded bool `yaml:"forwarded"`
	// Via adds "Via: 1.1 gatehouse" to requests and responses.
	Via bool `yaml:"via"`
	// RequestIDHeader names the request ID header, generated when absent and
	// returned to the client. Default X-Request-ID.
	RequestIDHeader string `yaml:"request_id_header"`
	// PassProxyAuthorization forwards Proxy-Authorization to upstreams
	// instead of removing it as a hop-by-hop header.
	PassProxyAuthorization bool `yaml:"pass_proxy_authorization"`
	// UnderscoresInHeaders forwards request header names that contain an
	// underscore. Default off, as in nginx: CGI-style backends read
	// "X_Forwarded_For" and "X-Forwarded-For" as the same variable.
	UnderscoresInHeaders bool `yaml:"underscores_in_headers"`
	// ClientCertHeader, if set, names a header that carries the subject of
	// the client's verified certificate (RFC 2253 form) to upstreams.
	// Copies sent by clients are always removed, verified or not.
	ClientCertHeader string `yaml:"client_cert_header"`
}

// Limits bound what a client may send.
type Limits struct {
	// MaxBodyBytes is the largest request body accepted (413 beyond).
	// Default 10MiB; 0 means unlimited. Routes may override it.
	MaxBodyBytes Size `yaml:"max_body_bytes"`
	// DrainTimeout is how long shutdown waits for in-flight requests and
	// upgraded connections. Default 30s.
	DrainTimeout Duration `yaml:"drain_timeout"`
}

// Log configures logging.
type Log struct {
	// Format is "json" (default) or "text".
	Format string `yaml:"format"`
	// Level is debug, info (default), warn or error.
	Level string `yaml:"level"`
	// Output is "stdout" (default), "stderr" or a file path.
	Output string `yaml:"output"`
	// Access turns the access log on (default) or off.
	Access bool `yaml:"access"`
}

// Reload configures live reload besides SIGHUP.
type Reload struct {
	// Watch reloads when the config file changes on disk.
	Watch bool `yaml:"watch"`
}

// Upstream is a named pool of targets with a balancing policy.
type Upstream struct {
	// Targets are the backends, e.g. "http://10.0.0.5:8080". Written as a
	// plain URL string or as {url, weight}.
	Targets []Target `yaml:"targets"`
	// Balance is round_robin (default, smooth weighted), least_conn, p2c
	// (power of two choices on in-flight requests), hash or sticky.
	Balance string `yaml:"balance"`
	// HashKey is what balance: hash hashes: "client_ip" (default),
	// "header:Name" or "cookie:Name". A missing header or cookie falls back
	// to the client IP.
	HashKey string `yaml:"hash_key"`
	// Sticky configures the cookie for balance: sticky.
	Sticky Sticky `yaml:"sticky"`

	// DialTimeout bounds connecting to a target. Default 5s.
	DialTimeout Duration `yaml:"dial_timeout"`
	// ResponseHeaderTimeout bounds the wait for response headers after the
	// request was sent. Default 60s. Exceeding it gives 504.
	ResponseHeaderTimeout Duration `yaml:"response_header_timeout"`
	// IdleConnTimeout closes pooled keep-alive connections idle this long.
	// Default 90s.
	IdleConnTimeout Duration `yaml:"idle_conn_timeout"`
	// MaxIdleConns is the number of idle keep-alive connections kept per
	// target. Default 128; an explicit 0 keeps none.
	MaxIdleConns int `yaml:"max_idle_conns"`
	// MaxConns limits connections per target, waiting for a free one beyond
	// it. 0 (default) means no limit.
	MaxConns int `yaml:"max_conns"`
	// UpgradeIdleTimeout closes an upgraded (WebSocket) connection when no
	// byte has moved either way for this long. Default 10m; an explicit 0
	// means never (WebSocket applications usually ping well within it).
	UpgradeIdleTimeout Duration `yaml:"upgrade_idle_timeout"`
	// SendTimeout bounds each pause while a request body is sent to the
	// target (the target stopped reading it); ReadTimeout each pause while
	// a response body arrives from it (the target stalled mid-response).
	// Default 60s each, like nginx's proxy_send_timeout and
	// proxy_read_timeout; 0 means no limit. Streams (server-sent events,
	// long polls) must send something within ReadTimeout.
	SendTimeout Duration `yaml:"send_timeout"`
	ReadTimeout Duration `yaml:"read_timeout"`

	// TLS configures connections to https:// targets.
	TLS UpstreamTLS `yaml:"tls"`

	// Health decides which targets get traffic.
	Health Health `yaml:"health"`
	// Retry bounds retries of failed requests on other targets.
	Retry Retry `yaml:"retry"`
}

// Target is one backend of an upstream.
type Target struct {
	// URL is scheme://host:port with no path other than "/". The scheme is
	// http (HTTP/1.1, port default 80), https (TLS, HTTP/2 or HTTP/1.1 by
	// ALPN, port default 443) or h2c (cleartext HTTP/2 with prior
	// knowledge, as gRPC servers speak; port required). All targets of an
	// upstream use the same scheme.
	URL string `yaml:"url"`
	// Weight is the relative share of traffic, 1..1000. Default 1.
	Weight int `yaml:"weight"`
}

// UpstreamTLS configures TLS to https:// targets.
type UpstreamTLS struct {
	// CA is a PEM bundle of authorities to verify targets with instead of
	// the system roots.
	CA string `yaml:"ca"`
	// ServerName is the SNI sent and the name verified. Default the
	// target's host.
	ServerName string `yaml:"server_name"`
	// Cert and Key are a client certificate and key (PEM files) presented
	// to targets that ask for one (mutual TLS).
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	// InsecureSkipVerify turns certificate verification off. Only for
	// tests; a warning is logged whenever such a config is applied.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// Sticky configures cookie-based session affinity.
type Sticky struct {
	// Cookie is the cookie name. Default "gh_sticky".
	Cookie string `yaml:"cookie"`
	// MaxAge of the cookie; 0 (default) makes it a session cookie.
	MaxAge Duration `yaml:"max_age"`
	// Secure marks the cookie Secure.
	Secure bool `yaml:"secure"`
}

// Health configures how targets are judged healthy.
type Health struct {
	// Active probes each target periodically. Nil disables active checks;
	// in a file, "active: {}" enables them with the defaults (a null
	// "active:" is the same as leaving it out).
	Active *ActiveHealth `yaml:"active"`
	// Passive ejects a target after consecutive failed requests.
	Passive PassiveHealth `yaml:"passive"`
}

// ActiveHealth configures periodic probes.
type ActiveHealth struct {
	// Path requested with GET. Default "/".
	Path string `yaml:"path"`
	// Host header for the probe. Default the target's host:port.
	Host string `yaml:"host"`
	// Interval between probes. Default 10s.
	Interval Duration `yaml:"interval"`
	// Timeout of one probe. Default 2s.
	Timeout Duration `yaml:"timeout"`
	// ExpectStatus lists acceptable statuses as codes and ranges, e.g.
	// "200-399" (default) or "200,204".
	ExpectStatus string `yaml:"expect_status"`
	// HealthyThreshold is the consecutive successes that bring a target
	// back. Default 2.
	HealthyThreshold int `yaml:"healthy_threshold"`
	// UnhealthyThreshold is the consecutive failures that take a target
	// down. Default 3.
	UnhealthyThreshold int `yaml:"unhealthy_threshold"`
}

// PassiveHealth configures ejection on failed requests.
type PassiveHealth struct {
	// MaxFails consecutive failures (connect errors, timeouts, broken
	// responses, and FailStatus answers) eject a target. Default 3; 0
	// disables passive checks.
	MaxFails int `yaml:"max_fails"`
	// Cooldown is how long an ejected target gets no traffic. Default 10s.
	Cooldown Duration `yaml:"cooldown"`
	// FailStatus lists response statuses that count as failures, e.g.
	// [502, 503]. Default none.
	FailStatus []int `yaml:"fail_status"`
}

// Retry bounds retries to other targets.
type Retry struct {
	// Attempts is the most tries per request, the first included, 1..8.
	// Default 3; 1 disables retries.
	Attempts int `yaml:"attempts"`
	// Budget is the fraction (0..1) of requests that may be retries, over
	// and above MinPerSecond. Default 0.2.
	Budget float64 `yaml:"budget"`
	// MinPerSecond retries are always allowed, so low traffic can retry.
	// Default 10.
	MinPerSecond int `yaml:"min_per_second"`
}

// Route maps matching requests to exactly one action: upstream, static,
// redirect or respond.
type Route struct {
	// Name identifies the route in logs. Defaults to "routes[i]".
	Name  string `yaml:"name"`
	Match Match  `yaml:"match"`

	// Upstream is the name of an upstream, or a URL ("http://host:port";
	// the port defaults to 80) for a single-target upstream with default
	// settings (see NewUpstream).
	Upstream string    `yaml:"upstream"`
	Static   *Static   `yaml:"static"`
	Redirect *Redirect `yaml:"redirect"`
	Respond  *Respond  `yaml:"respond"`

	// Rewrite changes the path sent upstream or looked up on disk.
	Rewrite Rewrite `yaml:"rewrite"`
	// HostHeader sets the Host sent upstream. Empty (default) keeps the
	// client's Host; "target" uses the target's host:port.
	HostHeader string `yaml:"host_header"`
	// RequestHeaders edits headers sent upstream; ResponseHeaders edits
	// headers sent to the client.
	RequestHeaders  HeaderOps `yaml:"request_headers"`
	ResponseHeaders HeaderOps `yaml:"response_headers"`
	// MaxBodyBytes overrides limits.max_body_bytes for this route.
	MaxBodyBytes *Size `yaml:"max_body_bytes"`
	// IPFilter allows or refuses requests by client address. Nil means
	// any address.
	IPFilter *IPFilter `yaml:"ip_filter"`
	// CORS answers cross-origin checks. Nil means no CORS headers.
	CORS *CORS `yaml:"cors"`
	// RequestLimits bound the request's header, URI and methods. Nil
	// means none of the route's own.
	RequestLimits *RequestLimits `yaml:"request_limits"`
	// Auth requires credentials: requests no listed authenticator admits
	// get 401 (or 403) and never reach the action. Nil means none.
	Auth *RouteAuth `yaml:"auth"`
	// ClientAuth makes the route refuse (403) requests without a client
	// certificate that verifies against its CA. The listener must ask for
	// certificates (tls.client_auth, mode request or require). Nil means
	// no certificate is required here.
	ClientAuth *RouteClientAuth `yaml:"client_auth"`
	// Cache answers the route's requests from a cache when RFC 9111
	// allows it. Nil means no caching.
	Cache *RouteCache `yaml:"cache"`
	// Compress compresses its responses. Nil means none (responses pass
	// as the action wrote them).
	Compress *Compress `yaml:"compress"`
	// RateLimit lists the route's rate limits; a request must pass every
	// one. Refusals are 429 with Retry-After.
	RateLimit []RouteRateLimit `yaml:"rate_limit"`
}

// RouteClientAuth requires a verified client certificate on a route.
type RouteClientAuth struct {
	// CA is the PEM bundle the certificate must chain to. Required.
	CA string `yaml:"ca"`
}

// Match selects requests. Every field that is set must match.
type Match struct {
	// Host lists host names: exact ("api.example.com") or wildcard
	// ("*.example.com", any subdomain depth), or IP literals. Matching is
	// case-insensitive. Empty matches any host.
	Host Strings `yaml:"host"`
	// Path is a path prefix matched at segment boundaries: "/api" matches
	// "/api" and "/api/x", never "/apiary". Default "/". It must be in
	// normal form (no "//", "." or ".." segments, no percent-escapes of
	// characters that need none); a trailing slash is allowed and means the
	// same prefix: "/api/" is "/api".
	Path string `yaml:"path"`
	// Methods, if set, restricts the route to these methods (upper-case).
	Methods Strings `yaml:"methods"`
	// Headers must all be present with exactly these values; the value "*"
	// only requires presence.
	Headers map[string]string `yaml:"headers"`
	// TLS, if set, matches facts of the connection's TLS handshake; a
	// plain HTTP request never matches a route with a tls block.
	TLS *MatchTLS `yaml:"tls"`
}

// MatchTLS matches TLS connection facts. Every field that is set must match.
type MatchTLS struct {
	// SNI lists server names sent by the client, exact or "*.example.com";
	// as in certificates, a wildcard covers exactly one label.
	SNI Strings `yaml:"sni"`
	// Versions lists protocol versions: "1.2", "1.3".
	Versions Strings `yaml:"versions"`
	// Ciphers lists negotiated cipher suites by IANA name, e.g.
	// TLS_AES_128_GCM_SHA256 or TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384.
	Ciphers Strings `yaml:"ciphers"`
	// ClientCert is "verified" (the listener verified a client
	// certificate) or "none" (no verified certificate). Empty matches both.
	ClientCert string `yaml:"client_cert"`
	// ClientSubject lists subjects of verified client certificates, each
	// written exactly as {tls_client_subject} shows it (RFC 2253, e.g.
	// "CN=alice,O=Example"); it implies client_cert: verified.
	ClientSubject Strings `yaml:"client_subject"`
}

// Rewrite edits the request path. ReplacePrefix is StripPrefix followed by
// AddPrefix, written as one step, and cannot be combined with them. All
// prefixes start with "/"; a trailing slash on one is ignored, as in
// Match.Path. A stripped prefix (StripPrefix, ReplacePrefix.From) must be a
// segment prefix of Match.Path, so it applies to every request the route
// takes.
type Rewrite struct {
	StripPrefix   string         `yaml:"strip_prefix"`
	AddPrefix     string         `yaml:"add_prefix"`
	ReplacePrefix *ReplacePrefix `yaml:"replace_prefix"`
}

// ReplacePrefix swaps the path prefix From for To.
type ReplacePrefix struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

// HeaderOps edits a header set: Remove runs first, then Set, then Add.
// Values may hold placeholders, replaced per request: {client_ip},
// {scheme}, {host}, {request_id}, {tls_version}, {tls_cipher}, {tls_sni},
// {tls_alpn}, {tls_client_subject}, {tls_client_issuer},
// {tls_client_serial}, {tls_client_fingerprint} (SHA-256, hex) and
// {tls_client_verified} (SUCCESS, NONE or FAILED). A TLS placeholder is
// empty on plain HTTP, a client one when no certificate was presented; a
// set whose value ends up empty removes the header (so a client's copy
// never stands in for a missing fact), and an add adds nothing. Other text,
// braces included, is literal; an unknown {lower_case_name} is an error.
type HeaderOps struct {
	Set    map[string]string `yaml:"set"`
	Add    map[string]string `yaml:"add"`
	Remove Strings           `yaml:"remove"`
}

// Static serves files from a directory.
type Static struct {
	// Root is the directory served, relative to the working directory
	// unless absolute; it must exist when the config is validated. Nothing
	// outside it is ever served, not even through symlinks.
	Root string `yaml:"root"`
	// Index is the file name served for a directory. Default
	// "index.html"; an explicit "" disables.
	Index string `yaml:"index"`
	// Browse lists directories without an index file. Default off.
	Browse bool `yaml:"browse"`
	// CacheControl, if set, is sent with every file.
	CacheControl string `yaml:"cache_control"`
}

// Redirect answers with a redirect.
type Redirect struct {
	// To is an absolute http(s) URL or a path starting with "/".
	To string `yaml:"to"`
	// Status is 301, 302 (default), 303, 307 or 308.
	Status int `yaml:"status"`
	// AppendPath appends the request path (after rewrite) and query to To.
	AppendPath bool `yaml:"append_path"`
}

// Respond answers with a fixed response.
type Respond struct {
	// Status defaults to 200.
	Status  int               `yaml:"status"`
	Body    string            `yaml:"body"`
	Headers map[string]string `yaml:"headers"`
}

// File returns the file the config was loaded from, or "" if built in code.
func (c *Config) File() string { return c.file }

// The listeners' HTTP/1.1 engines, and the variable that sets their
// default.
const (
	EngineGatehouse = "gatehouse"
	EngineStdlib    = "stdlib"
	EngineEnv       = "GATEHOUSE_ENGINE"
)
