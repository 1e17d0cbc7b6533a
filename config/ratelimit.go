package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RateLimitStore is a named place rate-limit state lives
// (rate_limits.<name>), shared by every limit that names it: Memory in
// this process, or Redis, shared by every Gatehouse instance using the
// same server and prefix. A store outlives reloads while its settings
// stay the same.
type RateLimitStore struct {
	Memory *RateLimitMemory `yaml:"memory"`
	Redis  *RateLimitRedis  `yaml:"redis"`
	// OnError is what a Redis store does when Redis cannot decide (down,
	// slow): "allow" (default) decides with this instance's own memory
	// until Redis answers again; "deny" refuses with 503.
	OnError string `yaml:"on_error"`
}

// RateLimitMemory bounds an in-process store.
type RateLimitMemory struct {
	// MaxKeys bounds the clients tracked; past it the ones nearest to a
	// full allowance are forgotten first. Default 1000000 (about 36 MiB).
	MaxKeys int `yaml:"max_keys"`
}

// RateLimitRedis is a Redis server (or Cluster, or Sentinels) shared by
// several Gatehouse instances.
type RateLimitRedis struct {
	// Address is the server's host:port; Addresses lists several: the
	// nodes of a Redis Cluster, or Sentinels with MasterName. One of the
	// two is required.
	Address   string   `yaml:"address"`
	Addresses []string `yaml:"addresses"`
	// Cluster says Address is a Redis Cluster's configuration endpoint
	// (one address that finds the nodes); several Addresses without
	// MasterName are a Cluster anyway.
	Cluster bool `yaml:"cluster"`
	// MasterName selects Sentinel mode: Addresses are Sentinels watching
	// the master of this name.
	MasterName string `yaml:"master_name"`
	// SentinelUsername and SentinelPassword authenticate to the
	// Sentinels, when they ask for it.
	SentinelUsername string `yaml:"sentinel_username"`
	SentinelPassword string `yaml:"sentinel_password"`
	Username         string `yaml:"username"`
	// Password authenticates (AUTH); write it as ${REDIS_PASSWORD} to keep
	// it out of the file.
	Password string `yaml:"password"`
	DB       int    `yaml:"db"`
	// TLS connects with TLS, verifying the server's certificate.
	TLS bool `yaml:"tls"`
	// Prefix starts every key. Default "gh:rl:".
	Prefix string `yaml:"prefix"`
	// Timeout bounds each decision; a slower Redis counts as down
	// (on_error). Default 100ms.
	Timeout Duration `yaml:"timeout"`
}

// RouteRateLimit is one limit of a route (routes[].rate_limit[]). Every
// limit of a route applies: a request passes only if each allows it.
type RouteRateLimit struct {
	// Name identifies the limit in the RateLimit-Policy and RateLimit
	// headers. Default "limit" for a route's first limit, "limit-2" for
	// its second, and so on.
	Name string `yaml:"name"`
	// Key is what requests are counted by: client_ip, header:NAME,
	// cookie:NAME, query:NAME, route (all of the route's requests
	// together), identity (who the route's auth admitted) or claim:NAME
	// (one of its claims), or several joined with "+"
	// ("client_ip+header:X-Tenant"). Default client_ip.
	Key string `yaml:"key"`
	// Rate is the sustained rate, "COUNT/PERIOD": 10/s, 600/m, 1000/h,
	// 5000/d or 100/10s. Required.
	Rate string `yaml:"rate"`
	// Burst is how many requests may arrive at once from an idle client.
	// Default the rate's COUNT (a period's worth).
	Burst int `yaml:"burst"`
	// Store names a store under rate_limits. Default: this instance's
	// memory (rate_limits need not define one).
	Store string `yaml:"store"`
	// IPv4Prefix and IPv6Prefix group client addresses for client_ip:
	// all addresses of one prefix count as one client. Defaults 32 (each
	// IPv4 address) and 64 (one IPv6 /64, which one subscriber usually
	// holds in full).
	IPv4Prefix int `yaml:"ipv4_prefix"`
	IPv6Prefix int `yaml:"ipv6_prefix"`
	// Missing is what happens to a request without the key's header,
	// cookie, query parameter, identity or claim: "share" (default) counts all of them in
	// one bucket of their own; "refuse" answers 400.
	Missing string `yaml:"missing"`
	// Headers sends the RateLimit-Policy and RateLimit headers on every
	// response of the route. Default true.
	Headers *bool `yaml:"headers"`
}

const (
	defaultRateLimitMaxKeys = 1_000_000
	defaultRateLimitPrefix  = "gh:rl:"
	defaultRateLimitTimeout = Duration(100 * time.Millisecond)
	defaultRateLimitKey     = "client_ip"
)

// RateLimitKeyKinds are the parts a rate limit key is made of; those
// ending in ":" take a name.
func RateLimitKeyKinds() []string {
	return []string{"client_ip", "route", "identity", "header:", "cookie:", "query:", "claim:"}
}

// ParseRate parses a rate_limit rate, "COUNT/PERIOD", where PERIOD is s,
// m, h or d, optionally preceded by a number (10s, 5m), or a duration
// ("100/1m30s").
func ParseRate(s string) (count int64, period time.Duration, err error) {
	c, p, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return 0, 0, fmt.Errorf("rate %q is not COUNT/PERIOD; write e.g. 10/s, 600/m, 1000/h or 100/10s", s)
	}
	count, err = strconv.ParseInt(strings.TrimSpace(c), 10, 64)
	if err != nil || count <= 0 {
		return 0, 0, fmt.Errorf("rate %q: the count must be a whole number above 0", s)
	}
	p = strings.TrimSpace(p)
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}
	if n := len(p); n > 0 && unit[p[n-1]] != 0 && (n == 1 || isDigits(p[:n-1])) {
		k := int64(1)
		if n > 1 {
			k, err = strconv.ParseInt(p[:n-1], 10, 64)
			if err != nil || k <= 0 || k > 366*24*3600 {
				return 0, 0, fmt.Errorf("rate %q: the period must be above 0 and at most a year", s)
			}
		}
		period = time.Duration(k) * unit[p[n-1]]
	} else if period, err = time.ParseDuration(p); err != nil || period <= 0 {
		return 0, 0, fmt.Errorf("rate %q: the period must be s, m, h, d, a number of them (10s) or a duration (1m30s)", s)
	}
	if period > 366*24*time.Hour {
		return 0, 0, fmt.Errorf("rate %q: the period must be at most a year", s)
	}
	if period/time.Duration(count) < time.Microsecond {
		return 0, 0, fmt.Errorf("rate %q is more than a million per second per client; a limit that high limits nothing", s)
	}
	return count, period, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func (s *RateLimitStore) fillDefaults() {
	if s.Memory != nil {
		s.Memory.fillDefaults()
	}
	if s.Redis != nil {
		s.Redis.fillDefaults()
	}
	setZero(&s.OnError, "allow")
}

func (m *RateLimitMemory) fillDefaults() { setZero(&m.MaxKeys, defaultRateLimitMaxKeys) }

func (r *RateLimitRedis) fillDefaults() {
	setZero(&r.Prefix, defaultRateLimitPrefix)
	setZero(&r.Timeout, defaultRateLimitTimeout)
}

func (l *RouteRateLimit) fillDefaults() {
	setZero(&l.Key, defaultRateLimitKey)
	setZero(&l.IPv4Prefix, 32)
	setZero(&l.IPv6Prefix, 64)
	setZero(&l.Missing, "share")
	if l.Headers == nil {
		t := true
		l.Headers = &t
	}
}

// nameRateLimits gives unnamed limits their default names, which depend
// on their place in the list.
func nameRateLimits(ls []RouteRateLimit) {
	for i := range ls {
		if i == 0 {
			setZero(&ls[i].Name, "limit")
		} else {
			setZero(&ls[i].Name, "limit-"+strconv.Itoa(i+1))
		}
	}
}
