package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/internal/mediatype"
)

// caches checks the named stores.
func (v *checker) caches() {
	for _, name := range slices.Sorted(maps.Keys(v.c.Caches)) {
		p := "caches." + name
		c := v.c.Caches[name]
		if c == nil || (c.Memory == nil && c.Redis == nil) {
			v.add(p, "has no tier; give it memory: {max_bytes: 256MiB}, redis: {address: host:port}, or both")
			continue
		}
		if m := c.Memory; m != nil {
			v.cacheSizes(p+".memory", m.MaxBytes, m.MaxObjectBytes)
		}
		if r := c.Redis; r != nil {
			if r.Address == "" {
				v.add(p+".redis.address", "is required: the Redis server's host:port, e.g. 127.0.0.1:6379")
			} else {
				v.check(p+".redis.address", checkHostPort(r.Address, false, true))
			}
			if r.DB < 0 {
				v.add(p+".redis.db", "must not be negative, got %d", r.DB)
			}
			v.positive(p+".redis.timeout", r.Timeout)
			v.cacheSizes(p+".redis", -1, r.MaxObjectBytes)
		}
	}
}

// cacheSizes checks a tier's bounds; max < 0 means the tier has none.
func (v *checker) cacheSizes(p string, max, object Size) {
	if max == 0 {
		v.add(p+".max_bytes", "must be greater than 0, e.g. 256MiB")
	}
	if object <= 0 {
		v.add(p+".max_object_bytes", "must be greater than 0, e.g. 16MiB")
	} else if max > 0 && object > max {
		v.add(p+".max_object_bytes", "%d bytes is more than max_bytes (%d bytes); no object that large could be stored", object, max)
	}
}

// routeCache checks a route's cache block.
func (v *checker) routeCache(p string, r *Route) {
	c := r.Cache
	switch {
	case c.Store == "":
		v.add(p+".store", "is required: the name of a cache under caches")
	case v.c.Caches[c.Store] == nil:
		names := slices.Sorted(maps.Keys(v.c.Caches))
		if len(names) == 0 {
			v.add(p+".store", "unknown cache %q; no caches are defined (add caches: {%s: {memory: {max_bytes: 256MiB}}})", c.Store, c.Store)
		} else if s := suggest(c.Store, names); s != "" {
			v.add(p+".store", "unknown cache %q; did you mean %q?", c.Store, s)
		} else {
			v.add(p+".store", "unknown cache %q; defined: %s", c.Store, strings.Join(names, ", "))
		}
	}
	if r.Redirect != nil {
		v.add(p, "a redirect route answers without work worth caching; remove the cache block")
	}
	v.oneOf(p+".key.query", "query mode", c.Key.Query, CacheQueryModes()...)
	for i, h := range c.Key.Headers {
		v.headerName(fmt.Sprintf("%s.key.headers[%d]", p, i), h)
	}
	for i, h := range c.Bypass.Headers {
		v.headerName(fmt.Sprintf("%s.bypass.headers[%d]", p, i), h)
	}
	for i, name := range c.Key.Cookies {
		v.cookieName(fmt.Sprintf("%s.key.cookies[%d]", p, i), name)
	}
	for i, name := range c.Bypass.Cookies {
		v.cookieName(fmt.Sprintf("%s.bypass.cookies[%d]", p, i), name)
	}
	for i, name := range c.Key.IgnoreParams {
		if name == "" {
			v.add(fmt.Sprintf("%s.key.ignore_params[%d]", p, i), "must not be empty")
		}
	}
	if len(c.Key.IgnoreParams) > 0 && c.Key.Query == "none" {
		v.add(p+".key.ignore_params", "has no effect with query: none (the whole query is ignored); remove one of them")
	}
	for i, s := range c.PurgeFrom {
		if _, err := parseTrusted(s); err != nil {
			v.add(fmt.Sprintf("%s.purge_from[%d]", p, i), "%q is not an IP address or CIDR, e.g. 127.0.0.1 or 10.0.0.0/8", s)
		}
	}
	v.positive(p+".lock_timeout", c.LockTimeout)
}

func (v *checker) cookieName(p, name string) {
	if !isToken(name) {
		v.add(p, "%q is not a valid cookie name", name)
	}
}

// compress checks a route's compress block.
func (v *checker) compress(p string, c *Compress) {
	known := CompressEncodings()
	levels := CompressLevels()
	if len(c.Encodings) == 0 {
		v.add(p+".encodings", "must list at least one of %s (or remove the compress block)", orList(known))
	}
	seen := map[string]string{}
	for i, e := range c.Encodings {
		ep := fmt.Sprintf("%s.encodings[%d]", p, i)
		if !slices.Contains(known, e) {
			v.add(ep, "unknown encoding %q; use %s", e, orList(known))
			continue
		}
		v.unique(seen, e, ep, ep, "encoding")
	}
	for _, e := range slices.Sorted(maps.Keys(c.Levels)) {
		lp := join(p+".levels", e)
		r, ok := levels[e]
		switch {
		case !ok:
			v.add(lp, "unknown encoding %q; use %s", e, orList(known))
		case c.Levels[e] < r[0] || c.Levels[e] > r[1]:
			v.add(lp, "%s level %d is out of range; use %d to %d (higher is smaller and slower)", e, c.Levels[e], r[0], r[1])
		case !slices.Contains(c.Encodings, e):
			v.add(lp, "sets a level for %s, which encodings does not list", e)
		}
	}
	for i, t := range c.Types {
		tp := fmt.Sprintf("%s.types[%d]", p, i)
		if _, err := mediatype.Parse(t); err != nil {
			v.add(tp, "%v", err)
		}
	}
	if c.MinBytes < 0 {
		v.add(p+".min_bytes", "must not be negative, got %d", c.MinBytes)
	}
}
