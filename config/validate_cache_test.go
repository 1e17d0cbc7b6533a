package config

import (
	"reflect"
	"testing"
	"time"
)

// C adds caches to U: "caches:" is line 5.
const C = U + "caches:\n"

func TestValidateCaches(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"no tier", C + "  a: {}\n  b:\n", []string{
			`gh.yaml:6:3: caches.a: has no tier; give it memory: {max_bytes: 256MiB}, redis: {address: host:port}, or both`,
			`gh.yaml:7:3: caches.b: has no tier; give it memory: {max_bytes: 256MiB}, redis: {address: host:port}, or both`,
		}},
		{"memory sizes", C + "  a: {memory: {max_bytes: 0}}\n  b: {memory: {max_bytes: 1MiB, max_object_bytes: 2MiB}}\n  c: {memory: {max_object_bytes: 0}}\n", []string{
			`gh.yaml:6:27: caches.a.memory.max_bytes: must be greater than 0, e.g. 256MiB`,
			`gh.yaml:7:51: caches.b.memory.max_object_bytes: 2097152 bytes is more than max_bytes (1048576 bytes); no object that large could be stored`,
			`gh.yaml:8:34: caches.c.memory.max_object_bytes: must be greater than 0, e.g. 16MiB`,
		}},
		{"redis", C + "  a: {redis: {}}\n  b: {redis: {address: localhost, db: -1, timeout: 0s}}\n", []string{
			`gh.yaml:6:7: caches.a.redis.address: is required: the Redis server's host:port, e.g. 127.0.0.1:6379`,
			`gh.yaml:7:24: caches.b.redis.address: "localhost" is not host:port, e.g. 127.0.0.1:8080 or :8080`,
			`gh.yaml:7:39: caches.b.redis.db: must not be negative, got -1`,
			`gh.yaml:7:52: caches.b.redis.timeout: must be greater than 0, got 0s`,
		}},
	}, nil)
}

// RC is a config with cache "main" and a route on line 8 to add keys to
// (indented by 4 from line 9).
const RC = C + "  main: {memory: {}}\nroutes:\n  - upstream: api\n"

func TestValidateRouteCache(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"no store", RC + "    cache: {}\n", []string{
			`gh.yaml:9:5: routes[0].cache.store: is required: the name of a cache under caches`,
		}},
		{"unknown store", RC + "    cache: {store: mian}\n", []string{
			`gh.yaml:9:20: routes[0].cache.store: unknown cache "mian"; did you mean "main"?`,
		}},
		{"no caches", R + "  - upstream: api\n    cache: {store: main}\n", []string{
			`gh.yaml:7:20: routes[0].cache.store: unknown cache "main"; no caches are defined (add caches: {main: {memory: {max_bytes: 256MiB}}})`,
		}},
		{"key and bypass", RC + "    cache:\n      store: main\n      key: {query: random, headers: [\"a b\"], cookies: [\"c;\"]}\n      bypass: {headers: [\"\"], cookies: [\"=\"]}\n", []string{
			`gh.yaml:11:20: routes[0].cache.key.query: unknown query mode "random"; use all, sorted or none`,
			`gh.yaml:11:38: routes[0].cache.key.headers[0]: "a b" is not a valid header name`,
			`gh.yaml:11:56: routes[0].cache.key.cookies[0]: "c;" is not a valid cookie name`,
			`gh.yaml:12:26: routes[0].cache.bypass.headers[0]: "" is not a valid header name`,
			`gh.yaml:12:41: routes[0].cache.bypass.cookies[0]: "=" is not a valid cookie name`,
		}},
		{"ignore params with query none", RC + "    cache: {store: main, key: {query: none, ignore_params: [utm, \"\"]}}\n", []string{
			`gh.yaml:9:45: routes[0].cache.key.ignore_params: has no effect with query: none (the whole query is ignored); remove one of them`,
			`gh.yaml:9:66: routes[0].cache.key.ignore_params[1]: must not be empty`,
		}},
		{"purge and lock", RC + "    cache: {store: main, purge_from: [10.0.0.0/33, localhost], lock_timeout: 0s}\n", []string{
			`gh.yaml:9:39: routes[0].cache.purge_from[0]: "10.0.0.0/33" is not an IP address or CIDR, e.g. 127.0.0.1 or 10.0.0.0/8`,
			`gh.yaml:9:52: routes[0].cache.purge_from[1]: "localhost" is not an IP address or CIDR, e.g. 127.0.0.1 or 10.0.0.0/8`,
			`gh.yaml:9:78: routes[0].cache.lock_timeout: must be greater than 0, got 0s`,
		}},
		{"redirect route", C + "  main: {memory: {}}\nroutes:\n  - redirect: {to: /x}\n    cache: {store: main}\n", []string{
			`gh.yaml:9:5: routes[0].cache: a redirect route answers without work worth caching; remove the cache block`,
		}},
	}, nil)
}

func TestValidateCompress(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"encodings", R + "  - upstream: api\n    compress: {encodings: [gzip, deflate, gzip]}\n", []string{
			`gh.yaml:7:34: routes[0].compress.encodings[1]: unknown encoding "deflate"; use zstd, br or gzip`,
			`gh.yaml:7:43: routes[0].compress.encodings[2]: encoding "gzip" is already used by routes[0].compress.encodings[0]`,
		}},
		{"no encodings", R + "  - upstream: api\n    compress: {encodings: []}\n", []string{
			`gh.yaml:7:16: routes[0].compress.encodings: must list at least one of zstd, br or gzip (or remove the compress block)`,
		}},
		{"levels", R + "  - upstream: api\n    compress: {encodings: [gzip, br], levels: {gzip: 10, br: 11, zstd: 3, lz4: 1}}\n", []string{
			`gh.yaml:7:48: routes[0].compress.levels.gzip: gzip level 10 is out of range; use 1 to 9 (higher is smaller and slower)`,
			`gh.yaml:7:66: routes[0].compress.levels.zstd: sets a level for zstd, which encodings does not list`,
			`gh.yaml:7:75: routes[0].compress.levels.lz4: unknown encoding "lz4"; use zstd, br or gzip`,
		}},
		{"types", R + "  - upstream: api\n    compress: {types: [text/*, application/json, Text/HTML, \"json\", \"text/html; charset=utf-8\", \"*/*\", \"*/json\", text/x*, \"*/*+json\"]}\n", []string{
			`gh.yaml:7:61: routes[0].compress.types[3]: "json" is not a media type; write type/subtype, type/* or type/*+suffix, e.g. application/json, text/* or application/*+json`,
			`gh.yaml:7:69: routes[0].compress.types[4]: "text/html; charset=utf-8" is not a media type; write type/subtype, type/* or type/*+suffix, e.g. application/json, text/* or application/*+json`,
			`gh.yaml:7:104: routes[0].compress.types[6]: "*/json": a type of * needs a subtype of * or *+suffix (*/*+json)`,
			`gh.yaml:7:114: routes[0].compress.types[7]: "text/x*": a subtype pattern is * or *+suffix (text/*, application/*+json), not a partial name`,
		}},
	}, nil)
}

func TestCacheDefaults(t *testing.T) {
	c := mustLoad(t, C+"  main: {memory: {}, redis: {address: 127.0.0.1:6379}}\nroutes:\n  - upstream: api\n    cache: {store: main}\n    compress: {}\n", nil)
	k := c.Caches["main"]
	if want := (CacheMemory{MaxBytes: 256 << 20, MaxObjectBytes: 16 << 20}); *k.Memory != want {
		t.Errorf("memory = %+v, want %+v", *k.Memory, want)
	}
	if want := (CacheRedis{Address: "127.0.0.1:6379", Prefix: "gh:", Timeout: Duration(250 * time.Millisecond), MaxObjectBytes: 16 << 20}); *k.Redis != want {
		t.Errorf("redis = %+v, want %+v", *k.Redis, want)
	}
	r := c.Routes[0]
	if want := (&RouteCache{Store: "main", Key: CacheKey{Query: "all"}, LockTimeout: Duration(5 * time.Second)}); !reflect.DeepEqual(r.Cache, want) {
		t.Errorf("cache = %+v, want %+v", r.Cache, want)
	}
	if want := (&Compress{Encodings: []string{"zstd", "br", "gzip"}, MinBytes: 1024}); !reflect.DeepEqual(r.Compress, want) {
		t.Errorf("compress = %+v, want %+v", r.Compress, want)
	}
	// ApplyDefaults gives a Config built in code the same.
	built := &Config{Caches: map[string]*Cache{"m": {Memory: &CacheMemory{}}}, Routes: []Route{{Cache: &RouteCache{Store: "m"}, Compress: &Compress{}}}}
	built.ApplyDefaults()
	if built.Caches["m"].Memory.MaxBytes != 256<<20 || built.Routes[0].Cache.LockTimeout == 0 || built.Routes[0].Compress.MinBytes != 1024 {
		t.Errorf("ApplyDefaults left cache defaults unset: %+v %+v %+v", built.Caches["m"].Memory, built.Routes[0].Cache, built.Routes[0].Compress)
	}
}
