package store

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/gcra"
)

// RedisOptions configure a Redis store.
type RedisOptions struct {
	// Addresses are host:port pairs: one for a single server, several
	// for a Redis Cluster, or Sentinels when MasterName is set. Required.
	Addresses []string
	// Cluster makes one address a Cluster's configuration endpoint.
	Cluster    bool
	MasterName string
	Username   string
	Password   string
	// SentinelUsername and SentinelPassword authenticate to Sentinels.
	SentinelUsername string
	SentinelPassword string
	DB               int
	// TLS connects with TLS, verifying each server's certificate for the
	// host of its own address (a Cluster's nodes, the master a Sentinel
	// names).
	TLS bool
	// Prefix starts every key. Default "gatehouse:rl:".
	Prefix string
	// Timeout bounds each decision, the wait for a pooled connection
	// included. Default 100ms.
	Timeout time.Duration
	// PoolSize is the connections kept per server; 0 means go-redis's
	// default (10 per CPU).
	PoolSize int
}

// Redis keeps buckets in Redis, so every Gatehouse instance using the
// same server and prefix enforces one combined limit. Each decision is
// one round trip: a Lua script doing the GCRA step atomically, timed by
// Redis's own clock (TIME), so instances whose clocks disagree still
// agree on every bucket. The script runs in microseconds (Lua numbers
// are doubles), so intervals are rounded up to a whole microsecond.
//
// A bucket's key expires when its allowance is full again: Redis holds
// only the clients that are currently limited or recently active.
type Redis struct {
	c       redis.UniversalClient
	prefix  string
	timeout time.Duration
}

// gcraScript is gcra.Limit.Decide in Lua. ARGV: interval (µs), burst,
// units. Returns allowed (0/1), remaining, retry-after (µs), reset (µs).
var gcraScript = redis.NewScript(`
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = interval * burst
if n > burst then
  return {0, 0, window, 0}
end
local tat = tonumber(redis.call('GET', KEYS[1]) or 0) or 0
if tat < now then
  tat = now
end
local nxt = tat + interval * n
local allowAt = nxt - window
if now < allowAt then
  return {0, math.floor((now + window - tat) / interval), allowAt - now, tat - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.max(1, math.ceil((nxt - now) / 1000)))
return {1, math.floor((now + window - nxt) / interval), 0, nxt - now}
`)

// NewRedis returns a Redis store. It does not connect: a server that is
// down at start costs on_error decisions, not the start.
func NewRedis(o RedisOptions) (*Redis, error) {
	if len(o.Addresses) == 0 {
		return nil, errors.New("ratelimit store: no redis address")
	}
	for _, a := range o.Addresses {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("ratelimit store: redis address %q: %w", a, err)
		}
	}
	if o.Prefix == "" {
		o.Prefix = "gatehouse:rl:"
	}
	if o.Timeout <= 0 {
		o.Timeout = 100 * time.Millisecond
	}
	uo := &redis.UniversalOptions{
		Addrs:                 o.Addresses,
		IsClusterMode:         o.Cluster,
		MasterName:            o.MasterName,
		Username:              o.Username,
		Password:              o.Password,
		SentinelUsername:      o.SentinelUsername,
		SentinelPassword:      o.SentinelPassword,
		DB:                    o.DB,
		DialTimeout:           o.Timeout,
		ReadTimeout:           o.Timeout,
		WriteTimeout:          o.Timeout,
		PoolTimeout:           o.Timeout,
		PoolSize:              o.PoolSize,
		ContextTimeoutEnabled: true,
		// A retry would spend the decision's time budget again, and a
		// retried script may count a request twice.
		MaxRetries:               -1,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
	if o.TLS {
		// One tls.Config's ServerName would be the first address's host
		// for every node; dialing each with its own host verifies each.
		nd := &net.Dialer{Timeout: o.Timeout, KeepAlive: 5 * time.Minute}
		uo.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			td := &tls.Dialer{NetDialer: nd, Config: &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}}
			return td.DialContext(ctx, network, addr)
		}
	}
	return &Redis{c: redis.NewUniversalClient(uo), prefix: o.Prefix, timeout: o.Timeout}, nil
}

// Take implements Store.
func (s *Redis) Take(ctx context.Context, b Bucket, l gcra.Limit, n int64) (gcra.Result, error) {
	if !l.Valid() {
		return gcra.Result{RetryAfter: time.Second}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	us := (int64(l.Interval) + 999) / 1000
	v, err := gcraScript.Run(ctx, s.c, []string{s.key(b)}, us, l.Burst, n).Int64Slice()
	if err != nil {
		return gcra.Result{}, fmt.Errorf("ratelimit store: redis: %w", err)
	}
	if len(v) != 4 {
		return gcra.Result{}, fmt.Errorf("ratelimit store: redis script answered %d values, want 4", len(v))
	}
	return gcra.Result{
		Allowed:    v[0] == 1,
		Remaining:  v[1],
		RetryAfter: time.Duration(v[2]) * time.Microsecond,
		Reset:      time.Duration(v[3]) * time.Microsecond,
	}, nil
}

// key is the bucket's Redis key; a long key value (a header can be
// kilobytes) is hashed so keys stay short.
func (s *Redis) key(b Bucket) string {
	if len(b.Key) > 64 {
		sum := sha256.Sum256([]byte(b.Key))
		return s.prefix + b.Policy + "\x00#" + hex.EncodeToString(sum[:16])
	}
	return s.prefix + b.Policy + "\x00=" + b.Key // = and #: a key value cannot pose as a hash
}

// Close closes the connection pool.
func (s *Redis) Close() error { return s.c.Close() }

var _ Store = (*Redis)(nil)
