package config

import (
	"reflect"
	"testing"
	"time"
)

// RS adds rate_limits to U: "rate_limits:" is line 5.
const RS = U + "rate_limits:\n"

// RL starts a route with rate limits after U: the first limit is line 8.
const RL = U + "routes:\n  - upstream: api\n    rate_limit:\n"

func TestValidateRateLimitStores(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"no kind", RS + "  a: {}\n  b: {memory: {max_keys: 5}, redis: {address: 127.0.0.1:6379}}\n", []string{
			`gh.yaml:6:3: rate_limits.a: has no kind; give it memory: {max_keys: 1000000} or redis: {address: host:port}`,
			`gh.yaml:7:3: rate_limits.b: sets both memory and redis; a store is one or the other (a redis store with on_error: allow already falls back to memory)`,
		}},
		{"memory", RS + "  a: {memory: {max_keys: -1}, on_error: deny}\n", []string{
			`gh.yaml:6:26: rate_limits.a.memory.max_keys: must be greater than 0, e.g. 1000000 (about 36 MiB)`,
			`gh.yaml:6:41: rate_limits.a.on_error: applies to a redis store only; a memory store cannot fail`,
		}},
		{"redis", RS + "  a: {redis: {}}\n  b: {redis: {address: localhost, db: -1, timeout: 0s}, on_error: maybe}\n  c: {redis: {address: 127.0.0.1:1, addresses: [127.0.0.1:2]}}\n  d: {redis: {master_name: m}}\n  e: {redis: {addresses: [127.0.0.1:26379, 'x'], master_name: m}}\n", []string{
			`gh.yaml:6:7: rate_limits.a.redis.address: is required: the Redis server's host:port, e.g. 127.0.0.1:6379 (or addresses: [...] for a Cluster or Sentinels)`,
			`gh.yaml:7:24: rate_limits.b.redis.address: "localhost" is not host:port, e.g. 127.0.0.1:8080 or :8080`,
			`gh.yaml:7:39: rate_limits.b.redis.db: must not be negative, got -1`,
			`gh.yaml:7:52: rate_limits.b.redis.timeout: must be greater than 0, got 0s`,
			`gh.yaml:7:67: rate_limits.b.on_error: unknown value "maybe"; use allow (decide in this instance's memory while Redis is down) or deny (answer 503)`,
			`gh.yaml:8:37: rate_limits.c.redis.addresses: is set with address; use address for one server, addresses for a Cluster or Sentinels`,
			`gh.yaml:9:7: rate_limits.d.redis.address: is required: the Redis server's host:port, e.g. 127.0.0.1:6379 (or addresses: [...] for a Cluster or Sentinels)`,
			`gh.yaml:9:28: rate_limits.d.redis.master_name: needs addresses: the Sentinels that know the master`,
			`gh.yaml:10:44: rate_limits.e.redis.addresses[1]: "x" is not host:port, e.g. 127.0.0.1:8080 or :8080`,
		}},
		{"cluster and sentinel", RS + "  a: {redis: {addresses: [127.0.0.1:1, 127.0.0.1:2], master_name: m, cluster: true}}\n  b: {redis: {address: 127.0.0.1:1, sentinel_password: x}}\n  c: {redis: {address: 127.0.0.1:1, cluster: true, db: 2}}\n  d: {redis: {address: 127.0.0.1:1, cluster: true}}\n", []string{
			`gh.yaml:6:79: rate_limits.a.redis.cluster: is set with master_name; a store is a Cluster or behind Sentinels, not both`,
			`gh.yaml:7:56: rate_limits.b.redis.sentinel_password: applies with master_name only (Sentinel mode)`,
			`gh.yaml:8:56: rate_limits.c.redis.db: a Redis Cluster has only database 0`,
		}},
	}, nil)
}

func TestValidateRouteRateLimits(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"rate", RL + "      - {}\n      - {rate: 10}\n      - {rate: 0/s}\n      - {rate: 10/w}\n      - {rate: 10/0s}\n      - {rate: 5000000/s}\n      - {rate: 10/400d}\n      - {rate: 1/d, burst: 40000}\n      - {rate: 10/s, burst: -1}\n", []string{
			`gh.yaml:8:9: routes[0].rate_limit[0].rate: is required, e.g. 10/s, 600/m or 1000/h`,
			`gh.yaml:9:16: routes[0].rate_limit[1].rate: rate "10" is not COUNT/PERIOD; write e.g. 10/s, 600/m, 1000/h or 100/10s`,
			`gh.yaml:10:16: routes[0].rate_limit[2].rate: rate "0/s": the count must be a whole number above 0`,
			`gh.yaml:11:16: routes[0].rate_limit[3].rate: rate "10/w": the period must be s, m, h, d, a number of them (10s) or a duration (1m30s)`,
			`gh.yaml:12:16: routes[0].rate_limit[4].rate: rate "10/0s": the period must be above 0 and at most a year`,
			`gh.yaml:13:16: routes[0].rate_limit[5].rate: rate "5000000/s" is more than a million per second per client; a limit that high limits nothing`,
			`gh.yaml:14:16: routes[0].rate_limit[6].rate: rate "10/400d": the period must be at most a year`,
			`gh.yaml:15:28: routes[0].rate_limit[7].burst: 40000 at 1/d is more than a century of requests; lower it`,
			`gh.yaml:16:29: routes[0].rate_limit[8].burst: must not be negative (0 means the rate's count)`,
		}},
		{"keys", RL + "      - {rate: 1/s, key: ip}\n      - {rate: 1/s, key: 'header:'}\n      - {rate: 1/s, key: client_ip+route+client_ip}\n      - {rate: 1/s, key: header:X-A+header:x-a+cookie:s+query:k}\n", []string{
			`gh.yaml:8:26: routes[0].rate_limit[0].key: unknown key part "ip"; use client_ip, route, header:NAME, cookie:NAME, query:NAME, identity or claim:NAME, joined with + to combine them`,
			`gh.yaml:9:26: routes[0].rate_limit[1].key: "header:": header needs a name, e.g. header:X-API-Key`,
			`gh.yaml:10:26: routes[0].rate_limit[2].key: "client_ip" is listed twice`,
			`gh.yaml:11:26: routes[0].rate_limit[3].key: "header:x-a" is listed twice`,
		}},
		{"names and the rest", RL + "      - {rate: 1/s}\n      - {rate: 1/s, name: limit}\n      - {rate: 1/s, name: 'a b'}\n      - {rate: 1/s, store: nope, ipv4_prefix: 33, ipv6_prefix: 129, missing: drop}\n", []string{
			`gh.yaml:9:27: routes[0].rate_limit[1].name: "limit" is already the name of routes[0].rate_limit[0]; each limit of a route needs its own`,
			`gh.yaml:10:27: routes[0].rate_limit[2].name: "a b" must be letters, digits, '.', '_' or '-' (it is sent in the RateLimit headers)`,
			`gh.yaml:11:28: routes[0].rate_limit[3].store: unknown store "nope"; no rate_limits are defined (add rate_limits: {nope: {memory: {max_keys: 1000000}}}, or leave store out to count in memory)`,
			`gh.yaml:11:47: routes[0].rate_limit[3].ipv4_prefix: must be 1 to 32, got 33`,
			`gh.yaml:11:64: routes[0].rate_limit[3].ipv6_prefix: must be 1 to 128, got 129`,
			`gh.yaml:11:78: routes[0].rate_limit[3].missing: unknown value "drop"; use share (requests without the value count together) or refuse (400)`,
		}},
	}, nil)
}

func TestParseRate(t *testing.T) {
	for s, want := range map[string][2]int64{
		"10/s": {10, int64(time.Second)}, "600/m": {600, int64(time.Minute)}, "1000/h": {1000, int64(time.Hour)},
		"5000/d": {5000, int64(24 * time.Hour)}, "100/10s": {100, int64(10 * time.Second)}, " 7 / 2m ": {7, int64(2 * time.Minute)},
		"100/1m30s": {100, int64(90 * time.Second)}, "1/365d": {1, int64(365 * 24 * time.Hour)},
	} {
		c, p, err := ParseRate(s)
		if err != nil || c != want[0] || int64(p) != want[1] {
			t.Errorf("ParseRate(%q) = %d, %v, %v; want %d, %v", s, c, p, err, want[0], time.Duration(want[1]))
		}
	}
	for _, s := range []string{"", "/s", "10/", "-1/s", "1.5/s", "10/s/s", "10/-1s", "10/ms", "99999999999999999999/s"} {
		if _, _, err := ParseRate(s); err == nil {
			t.Errorf("ParseRate(%q) accepted it", s)
		}
	}
}

func TestRateLimitDefaults(t *testing.T) {
	c := mustLoad(t, RS+"  local: {memory: {}}\n  cluster: {redis: {address: 127.0.0.1:6379}}\nroutes:\n  - upstream: api\n    rate_limit:\n      - {rate: 10/s}\n      - {rate: 1000/h, key: 'header:X-API-Key', store: cluster}\n", nil)
	if got := *c.RateLimits["local"].Memory; got != (RateLimitMemory{MaxKeys: 1_000_000}) {
		t.Errorf("memory = %+v", got)
	}
	if s := c.RateLimits["cluster"]; s.OnError != "allow" || !reflect.DeepEqual(*s.Redis, RateLimitRedis{Address: "127.0.0.1:6379", Prefix: "gh:rl:", Timeout: Duration(100 * time.Millisecond)}) {
		t.Errorf("redis store = %+v %+v", s, *s.Redis)
	}
	yes := true
	want := []RouteRateLimit{
		{Name: "limit", Key: "client_ip", Rate: "10/s", IPv4Prefix: 32, IPv6Prefix: 64, Missing: "share", Headers: &yes},
		{Name: "limit-2", Key: "header:X-API-Key", Rate: "1000/h", Store: "cluster", IPv4Prefix: 32, IPv6Prefix: 64, Missing: "share", Headers: &yes},
	}
	if got := c.Routes[0].RateLimit; !reflect.DeepEqual(got, want) {
		t.Errorf("rate_limit = %+v, want %+v", got, want)
	}
}
