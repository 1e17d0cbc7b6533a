package config

import "time"

// Cache is a named response store, shared by every route that names it
// (caches.<name>). It holds at least one tier: Memory keeps responses in
// this process; Redis shares them between Gatehouse instances. With both,
// memory sits in front of Redis. A store outlives reloads while its
// settings stay the same.
type Cache struct {
	Memory *CacheMemory `yaml:"memory"`
	Redis  *CacheRedis  `yaml:"redis"`
}

// CacheMemory bounds the in-process tier.
type CacheMemory struct {
	// MaxBytes bounds what the tier holds, bodies and headers together.
	// Default 256MiB.
	MaxBytes Size `yaml:"max_bytes"`
	// MaxObjectBytes is the largest body stored; a larger response still
	// streams to the client, it is only not stored. Default 16MiB.
	MaxObjectBytes Size `yaml:"max_object_bytes"`
}

// CacheRedis is a Redis server shared by several Gatehouse instances.
type CacheRedis struct {
	// Address is the server's host:port. Required.
	Address string `yaml:"address"`
	// Password authenticates (AUTH); write it as ${REDIS_PASSWORD} to keep
	// it out of the file. Empty sends none.
	Password string `yaml:"password"`
	// DB is the Redis database number. Default 0.
	DB int `yaml:"db"`
	// Prefix starts every key Gatehouse writes. Default "gh:".
	Prefix string `yaml:"prefix"`
	// Timeout bounds each Redis operation; a slower or absent Redis
	// counts as a miss (and, with a memory tier, as an outage). Default
	// 250ms.
	Timeout Duration `yaml:"timeout"`
	// MaxObjectBytes is the largest body stored in Redis. Default 16MiB.
	MaxObjectBytes Size `yaml:"max_object_bytes"`
}

// RouteCache makes a route answer from a cache (routes[].cache). With no
// other key it does what RFC 9111 says the origin's headers allow, and
// nothing more.
type RouteCache struct {
	// Store names a cache under caches. Required.
	Store string `yaml:"store"`
	// Key selects what, besides scheme, host and path (always part of the
	// key, so one site's responses never answer another's), tells
	// responses apart.
	Key CacheKey `yaml:"key"`
	// Bypass lists requests that skip the cache: forwarded as they are and
	// their responses not stored.
	Bypass CacheBypass `yaml:"bypass"`
	// PurgeFrom lists the client addresses (CIDRs or IPs) allowed to send
	// PURGE to this route; empty refuses every PURGE with 405.
	PurgeFrom []string `yaml:"purge_from"`
	// LockTimeout bounds how long a request waits for another one's miss
	// of the same key to be answered (request collapsing) before it goes
	// to the origin itself. Default 5s; 0 is not allowed (use a small
	// value to collapse less).
	LockTimeout Duration `yaml:"lock_timeout"`
}

// CacheKey tunes the cache key.
type CacheKey struct {
	// Query is how the query string enters the key: "all" as sent
	// (default), "sorted" (parameters in sorted order, so ?a=1&b=2 and
	// ?b=2&a=1 share an entry) or "none" (ignored).
	Query string `yaml:"query"`
	// IgnoreParams are query parameters left out of the key (e.g.
	// utm_source); with Query all they make the query sorted.
	IgnoreParams []string `yaml:"ignore_params"`
	// Headers are request headers whose values join the key.
	Headers []string `yaml:"headers"`
	// Cookies are cookies whose values join the key.
	Cookies []string `yaml:"cookies"`
}

// CacheBypass lists requests that skip the cache.
type CacheBypass struct {
	// Cookies: a request carrying any of these cookies skips the cache
	// (e.g. a session cookie).
	Cookies []string `yaml:"cookies"`
	// Headers: a request carrying any of these headers skips the cache.
	// Authorization needs no listing: RFC 9111 already keeps responses to
	// it out of a shared cache unless the origin allows them.
	Headers []string `yaml:"headers"`
}

// Compress compresses responses of a route (routes[].compress). An empty
// block compresses text-like responses of at least 1KiB with zstd,
// brotli or gzip, whichever the client accepts first in that order.
type Compress struct {
	// Encodings is the server's preference order among zstd, br and gzip,
	// used when the client's q-values tie. Default [zstd, br, gzip].
	Encodings []string `yaml:"encodings"`
	// Levels sets a level per encoding (gzip 1-9, br 0-11, zstd 1-22);
	// unset levels are chosen for speed.
	Levels map[string]int `yaml:"levels"`
	// Types are the media types compressed, exact ("application/json") or
	// a whole family ("text/*"). Default: text, JSON, JavaScript, XML,
	// SVG and wasm (see the README).
	Types []string `yaml:"types"`
	// MinBytes is the smallest body compressed. Default 1KiB.
	MinBytes Size `yaml:"min_bytes"`
}

// Defaults of the cache and compression settings.
const (
	defaultCacheMaxBytes       = 256 << 20
	defaultCacheMaxObjectBytes = 16 << 20
	defaultRedisPrefix         = "gh:"
	defaultRedisTimeout        = Duration(250 * time.Millisecond)
	defaultCacheLockTimeout    = Duration(5 * time.Second)
	defaultCacheQuery          = "all"
	defaultCompressMinBytes    = 1 << 10
)

// CacheQueryModes are the values of routes[].cache.key.query.
func CacheQueryModes() []string { return []string{"all", "sorted", "none"} }

// CompressLevels gives the levels each encoding accepts, lowest first.
func CompressLevels() map[string][2]int {
	return map[string][2]int{"zstd": {1, 22}, "br": {0, 11}, "gzip": {1, 9}}
}

// CompressEncodings is the default preference order of encodings.
func CompressEncodings() []string { return []string{"zstd", "br", "gzip"} }

func (c *Cache) fillDefaults() {
	if c.Memory != nil {
		c.Memory.fillDefaults()
	}
	if c.Redis != nil {
		c.Redis.fillDefaults()
	}
}

func (m *CacheMemory) fillDefaults() {
	setZero(&m.MaxBytes, defaultCacheMaxBytes)
	setZero(&m.MaxObjectBytes, defaultCacheMaxObjectBytes)
}

func (r *CacheRedis) fillDefaults() {
	setZero(&r.Prefix, defaultRedisPrefix)
	setZero(&r.Timeout, defaultRedisTimeout)
	setZero(&r.MaxObjectBytes, defaultCacheMaxObjectBytes)
}

func (c *RouteCache) fillDefaults() {
	setZero(&c.LockTimeout, defaultCacheLockTimeout)
	setZero(&c.Key.Query, defaultCacheQuery)
}

func (c *Compress) fillDefaults() {
	if c.Encodings == nil {
		c.Encodings = CompressEncodings()
	}
	setZero(&c.MinBytes, defaultCompressMinBytes)
}
