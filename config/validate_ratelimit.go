package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// rateLimitStores checks the named rate-limit stores.
func (v *checker) rateLimitStores() {
	for _, name := range slices.Sorted(maps.Keys(v.c.RateLimits)) {
		p := "rate_limits." + name
		s := v.c.RateLimits[name]
		switch {
		case s == nil || (s.Memory == nil && s.Redis == nil):
			v.add(p, "has no kind; give it memory: {max_keys: 1000000} or redis: {address: host:port}")
			continue
		case s.Memory != nil && s.Redis != nil:
			v.add(p, "sets both memory and redis; a store is one or the other (a redis store with on_error: allow already falls back to memory)")
		}
		if m := s.Memory; m != nil && m.MaxKeys <= 0 {
			v.add(p+".memory.max_keys", "must be greater than 0, e.g. 1000000 (about 36 MiB)")
		}
		if s.Redis == nil {
			if s.OnError == "deny" {
				v.add(p+".on_error", "applies to a redis store only; a memory store cannot fail")
			}
			continue
		}
		v.rateLimitRedis(p+".redis", s.Redis)
		if s.OnError != "allow" && s.OnError != "deny" {
			v.add(p+".on_error", "unknown value %q; use allow (decide in this instance's memory while Redis is down) or deny (answer 503)", s.OnError)
		}
	}
}

func (v *checker) rateLimitRedis(p string, r *RateLimitRedis) {
	switch {
	case r.Address == "" && len(r.Addresses) == 0:
		v.add(p+".address", "is required: the Redis server's host:port, e.g. 127.0.0.1:6379 (or addresses: [...] for a Cluster or Sentinels)")
	case r.Address != "" && len(r.Addresses) > 0:
		v.add(p+".addresses", "is set with address; use address for one server, addresses for a Cluster or Sentinels")
	case r.Address != "":
		v.check(p+".address", checkHostPort(r.Address, false, true))
	}
	for i, a := range r.Addresses {
		v.check(fmt.Sprintf("%s.addresses[%d]", p, i), checkHostPort(a, false, true))
	}
	if r.MasterName != "" && len(r.Addresses) == 0 {
		v.add(p+".master_name", "needs addresses: the Sentinels that know the master")
	}
	if r.Cluster && r.MasterName != "" {
		v.add(p+".cluster", "is set with master_name; a store is a Cluster or behind Sentinels, not both")
	}
	if (r.SentinelUsername != "" || r.SentinelPassword != "") && r.MasterName == "" {
		v.add(p+".sentinel_password", "applies with master_name only (Sentinel mode)")
	}
	if r.DB != 0 && r.MasterName == "" && (r.Cluster || len(r.Addresses) > 1) {
		v.add(p+".db", "a Redis Cluster has only database 0")
	}
	if r.DB < 0 {
		v.add(p+".db", "must not be negative, got %d", r.DB)
	}
	v.positive(p+".timeout", r.Timeout)
}

// maxRateWindow bounds burst × interval, as the limiter does.
const maxRateWindow = 100 * 365 * 24 * time.Hour

// routeRateLimits checks a route's rate_limit list.
func (v *checker) routeRateLimits(p string, ls []RouteRateLimit) {
	names := map[string]string{}
	for i := range ls {
		l := &ls[i]
		lp := fmt.Sprintf("%s[%d]", p, i)
		if !isPolicyName(l.Name) {
			v.add(lp+".name", "%q must be letters, digits, '.', '_' or '-' (it is sent in the RateLimit headers)", l.Name)
		} else if first, ok := names[l.Name]; ok {
			v.add(lp+".name", "%q is already the name of %s; each limit of a route needs its own", l.Name, first)
		} else {
			names[l.Name] = lp
		}
		v.rateLimitKey(lp+".key", l.Key)
		if l.Rate == "" {
			v.add(lp+".rate", "is required, e.g. 10/s, 600/m or 1000/h")
		} else if count, period, err := ParseRate(l.Rate); err != nil {
			v.add(lp+".rate", "%v", err)
		} else if l.Burst > 0 && int64(l.Burst) > int64(maxRateWindow/(period/time.Duration(count))) {
			v.add(lp+".burst", "%d at %s is more than a century of requests; lower it", l.Burst, l.Rate)
		}
		if l.Burst < 0 {
			v.add(lp+".burst", "must not be negative (0 means the rate's count)")
		}
		if l.Store != "" && v.c.RateLimits[l.Store] == nil {
			known := slices.Sorted(maps.Keys(v.c.RateLimits))
			if len(known) == 0 {
				v.add(lp+".store", "unknown store %q; no rate_limits are defined (add rate_limits: {%s: {memory: {max_keys: 1000000}}}, or leave store out to count in memory)", l.Store, l.Store)
			} else {
				v.add(lp+".store", "unknown store %q; rate_limits defines %s", l.Store, orList(known))
			}
		}
		if l.IPv4Prefix < 1 || l.IPv4Prefix > 32 {
			v.add(lp+".ipv4_prefix", "must be 1 to 32, got %d", l.IPv4Prefix)
		}
		if l.IPv6Prefix < 1 || l.IPv6Prefix > 128 {
			v.add(lp+".ipv6_prefix", "must be 1 to 128, got %d", l.IPv6Prefix)
		}
		if l.Missing != "share" && l.Missing != "refuse" {
			v.add(lp+".missing", "unknown value %q; use share (requests without the value count together) or refuse (400)", l.Missing)
		}
	}
}

// rateLimitKey checks a key: parts joined with "+".
func (v *checker) rateLimitKey(p, key string) {
	seen := map[string]bool{}
	for _, part := range strings.Split(key, "+") {
		kind, name, named := strings.Cut(part, ":")
		switch {
		case !named && (kind == "client_ip" || kind == "route" || kind == "identity"):
		case named && (kind == "header" || kind == "cookie" || kind == "query" || kind == "claim"):
			if !isToken(name) {
				v.add(p, "%q: %s needs a name, e.g. %s:X-API-Key", part, kind, kind)
				continue
			}
		default:
			v.add(p, "unknown key part %q; use client_ip, route, header:NAME, cookie:NAME, query:NAME, identity or claim:NAME, joined with + to combine them", part)
			continue
		}
		norm := kind + ":" + name
		if kind == "header" {
			norm = strings.ToLower(norm)
		}
		if seen[norm] {
			v.add(p, "%q is listed twice", part)
		}
		seen[norm] = true
	}
}

// isPolicyName reports whether s can name a policy in the RateLimit
// headers as written, without escapes.
func isPolicyName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
