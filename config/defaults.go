package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Defaults stated in the doc comments of config.go, in one place.
const (
	defaultRequestIDHeader = "X-Request-ID"
	defaultMaxBodyBytes    = 10 << 20
	defaultDrainTimeout    = Duration(30 * time.Second)

	defaultReadHeaderTimeout = Duration(10 * time.Second)
	defaultIdleTimeout       = Duration(120 * time.Second)
	defaultMaxHeaderBytes    = 64 << 10
	defaultMaxHeaderCount    = 100

	defaultDialTimeout           = Duration(5 * time.Second)
	defaultResponseHeaderTimeout = Duration(60 * time.Second)
	defaultIdleConnTimeout       = Duration(90 * time.Second)
	defaultMaxIdleConns          = 128
	defaultUpgradeIdleTimeout    = Duration(10 * time.Minute)
	defaultBodyTimeout           = Duration(60 * time.Second)

	defaultHealthInterval = Duration(10 * time.Second)
	defaultHealthTimeout  = Duration(2 * time.Second)
	defaultCooldown       = Duration(10 * time.Second)

	defaultACMEDirectory  = "https://acme-v02.api.letsencrypt.org/directory"
	defaultACMEStorage    = "gatehouse-data"
	defaultRenewCheck     = Duration(10 * time.Minute)
	defaultHSTSMaxAge     = Duration(365 * 24 * time.Hour)
	defaultTLSMinVersion  = "1.2"
	defaultTLSMaxVersion  = "1.3"
	defaultClientAuthMode = "require"
)

// defaulter is implemented by the elements the decoder allocates (list
// items, map values, pointed-to structs); it fills their defaults before the
// file's values are decoded over them, so explicit zeros survive.
type defaulter interface{ fillDefaults() }

// Default returns a Config with every global default filled in (forwarding,
// limits, log) and no listeners, upstreams or routes.
func Default() *Config {
	c := &Config{}
	c.fillGlobals()
	c.Log.Access = true
	return c
}

// NewUpstream returns an upstream with every default filled in and one
// target of weight 1 per URL (port 80 added to an http URL without one), as
// a route's `upstream: http://host:port` means. It does not validate.
func NewUpstream(urls ...string) *Upstream {
	u := &Upstream{}
	for _, s := range urls {
		u.Targets = append(u.Targets, Target{URL: withDefaultPort(s)})
	}
	u.fillDefaults()
	return u
}

// ApplyDefaults fills the documented defaults into c and every element it
// holds (listeners, upstreams and their targets and health checks, routes and
// their actions), and derives the defaults that depend on other fields:
// listener names, route names, and port 80 for http URLs without a port.
//
// ApplyDefaults cannot tell an explicit zero from an omitted field, so it
// treats every zero value as unset, including those whose zero means
// something: log.access, listeners' redirect_https, tls.http2 and
// tls.acme.ocsp_stapling false, limits.max_body_bytes 0, max_idle_conns 0,
// passive max_fails 0, retry budget and min_per_second 0, and static index "".
// Code that wants one of those zeros sets it after calling ApplyDefaults.
// Load does not have this problem: it decodes the file over elements already
// holding their defaults. ApplyDefaults is idempotent.
func (c *Config) ApplyDefaults() {
	c.fillGlobals()
	c.Log.Access = true // false is its zero value, so it counts as unset
	for i := range c.Listeners {
		c.Listeners[i].fillDefaults()
	}
	c.TLS.fillDefaults()
	for _, u := range c.Upstreams {
		if u != nil {
			u.fillDefaults()
		}
	}
	for _, k := range c.Caches {
		if k != nil {
			k.fillDefaults()
		}
	}
	for _, k := range c.RateLimits {
		if k != nil {
			k.fillDefaults()
		}
	}
	for _, a := range c.Authenticators {
		if a != nil {
			a.fillDefaults()
		}
	}
	for i := range c.Routes {
		c.Routes[i].fillDefaults()
	}
	if c.DefaultRoute != nil {
		c.DefaultRoute.fillDefaults()
	}
	c.derive()
}

// fillGlobals fills the top-level sections, except log.access: a bool's zero
// is indistinguishable from false, so the callers decide.
func (c *Config) fillGlobals() {
	setZero(&c.Forwarding.RequestIDHeader, defaultRequestIDHeader)
	setZero(&c.Limits.MaxBodyBytes, defaultMaxBodyBytes)
	setZero(&c.Limits.DrainTimeout, defaultDrainTimeout)
	setZero(&c.Log.Format, "json")
	setZero(&c.Log.Level, "info")
	setZero(&c.Log.Output, "stdout")
}

// derive fills the defaults computed from other fields. Load runs it after
// decoding; it never overwrites a non-empty value.
func (c *Config) derive() {
	for i := range c.Listeners {
		setZero(&c.Listeners[i].Name, c.Listeners[i].Address)
		setZero(&c.Listeners[i].Engine, c.engine)
		setZero(&c.Listeners[i].Engine, EngineGatehouse)
	}
	for _, u := range c.Upstreams {
		if u == nil {
			continue
		}
		for i := range u.Targets {
			u.Targets[i].URL = withDefaultPort(u.Targets[i].URL)
		}
	}
	for i := range c.Routes {
		r := &c.Routes[i]
		setZero(&r.Name, fmt.Sprintf("routes[%d]", i))
		r.Upstream = withDefaultPort(r.Upstream)
		nameRateLimits(r.RateLimit)
	}
	if r := c.DefaultRoute; r != nil {
		setZero(&r.Name, "default")
		r.Upstream = withDefaultPort(r.Upstream)
		nameRateLimits(r.RateLimit)
	}
}

// withDefaultPort adds ":80" to an http URL and ":443" to an https URL that
// has a host but no port (h2c has no default port), and returns anything
// else unchanged (Validate reports what is wrong with it).
func withDefaultPort(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	port := map[string]string{"http": "80", "https": "443"}[u.Scheme]
	if port == "" || u.Host == "" || u.Port() != "" || strings.HasSuffix(u.Host, ":") {
		return s
	}
	u.Host = net.JoinHostPort(u.Hostname(), port)
	return u.String()
}

func (l *Listener) fillDefaults() {
	l.RedirectHTTPS = true // false is its zero value, so it counts as unset
	if l.TLS != nil {
		l.TLS.fillDefaults()
	}
	setZero(&l.ReadHeaderTimeout, defaultReadHeaderTimeout)
	setZero(&l.IdleTimeout, defaultIdleTimeout)
	setZero(&l.ClientBodyTimeout, defaultBodyTimeout)
	setZero(&l.SendTimeout, defaultBodyTimeout)
	setZero(&l.MaxHeaderBytes, defaultMaxHeaderBytes)
	setZero(&l.MaxHeaderCount, defaultMaxHeaderCount)
}

func (t *ListenerTLS) fillDefaults() {
	setZero(&t.MinVersion, defaultTLSMinVersion)
	setZero(&t.MaxVersion, defaultTLSMaxVersion)
	t.HTTP2 = true // as RedirectHTTPS
	if t.ClientAuth != nil {
		t.ClientAuth.fillDefaults()
	}
}

func (a *ClientAuth) fillDefaults() { setZero(&a.Mode, defaultClientAuthMode) }

// fillDefaults of the top-level tls section fills what it holds; the
// section itself has no defaults.
func (t *TLS) fillDefaults() {
	if t.ACME != nil {
		t.ACME.fillDefaults()
	}
	for i := range t.HSTS {
		t.HSTS[i].fillDefaults()
	}
}

func (a *ACME) fillDefaults() {
	setZero(&a.Directory, defaultACMEDirectory)
	setZero(&a.Storage, defaultACMEStorage)
	setZero(&a.RenewCheckInterval, defaultRenewCheck)
	if len(a.Challenges) == 0 {
		a.Challenges = Strings{"http-01", "tls-alpn-01"}
	}
	a.OCSPStapling = true // as RedirectHTTPS
}

func (h *HSTS) fillDefaults() { setZero(&h.MaxAge, defaultHSTSMaxAge) }

func (u *Upstream) fillDefaults() {
	for i := range u.Targets {
		u.Targets[i].fillDefaults()
	}
	setZero(&u.Balance, "round_robin")
	setZero(&u.HashKey, "client_ip")
	setZero(&u.Sticky.Cookie, "gh_sticky")
	setZero(&u.DialTimeout, defaultDialTimeout)
	setZero(&u.ResponseHeaderTimeout, defaultResponseHeaderTimeout)
	setZero(&u.IdleConnTimeout, defaultIdleConnTimeout)
	setZero(&u.MaxIdleConns, defaultMaxIdleConns)
	setZero(&u.UpgradeIdleTimeout, defaultUpgradeIdleTimeout)
	setZero(&u.SendTimeout, defaultBodyTimeout)
	setZero(&u.ReadTimeout, defaultBodyTimeout)
	if u.Health.Active != nil {
		u.Health.Active.fillDefaults()
	}
	setZero(&u.Health.Passive.MaxFails, 3)
	setZero(&u.Health.Passive.Cooldown, defaultCooldown)
	setZero(&u.Retry.Attempts, 3)
	setZero(&u.Retry.Budget, 0.2)
	setZero(&u.Retry.MinPerSecond, 10)
}

func (t *Target) fillDefaults() { setZero(&t.Weight, 1) }

func (a *ActiveHealth) fillDefaults() {
	setZero(&a.Path, "/")
	setZero(&a.Interval, defaultHealthInterval)
	setZero(&a.Timeout, defaultHealthTimeout)
	setZero(&a.ExpectStatus, "200-399")
	setZero(&a.HealthyThreshold, 2)
	setZero(&a.UnhealthyThreshold, 3)
}

func (r *Route) fillDefaults() {
	setZero(&r.Match.Path, "/")
	if r.Static != nil {
		r.Static.fillDefaults()
	}
	if r.Redirect != nil {
		r.Redirect.fillDefaults()
	}
	if r.Respond != nil {
		r.Respond.fillDefaults()
	}
	if r.Cache != nil {
		r.Cache.fillDefaults()
	}
	if r.Compress != nil {
		r.Compress.fillDefaults()
	}
	for i := range r.RateLimit {
		r.RateLimit[i].fillDefaults()
	}
	if r.Auth != nil {
		r.Auth.fillDefaults()
	}
}

func (s *Static) fillDefaults()   { setZero(&s.Index, "index.html") }
func (r *Redirect) fillDefaults() { setZero(&r.Status, 302) }
func (r *Respond) fillDefaults()  { setZero(&r.Status, 200) }

// setZero sets *p to v if *p is the zero value.
func setZero[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}
