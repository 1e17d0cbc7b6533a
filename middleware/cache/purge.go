package cache

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/middleware/cache/policy"
	"github.com/gatehouse-proxy/gatehouse/middleware/wrap"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// purge answers PURGE from the addresses in PurgeFrom:
//
//	PURGE /path?query              that URL's stored responses (every variant)
//	PURGE /path/*                  every URL of this host under /path/
//	PURGE /  with Surrogate-Key: a b (or Cache-Tag: a,b)   every response tagged a or b
//
// with {"purged": n} in JSON, n counting keys (URL and prefix) or
// variants (tags).
func (h *handler) purge(w http.ResponseWriter, r *http.Request) {
	info := reqinfo.From(r.Context())
	if len(h.o.PurgeFrom) == 0 {
		h.o.Fail(w, r, funnel.WithHeader(fmt.Errorf("%w: PURGE is not enabled on route %q (cache.purge_from)", funnel.ErrMethodNotAllowed, info.Route), "Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"))
		return
	}
	allowed := false
	for _, p := range h.o.PurgeFrom {
		if p.Contains(info.ClientIP.Unmap()) {
			allowed = true
			break
		}
	}
	if !allowed {
		h.o.Fail(w, r, fmt.Errorf("%w: PURGE from %s is not in cache.purge_from of route %q", funnel.ErrForbidden, info.ClientIP, info.Route))
		return
	}
	ctx := r.Context()
	var n int
	var err error
	scope := "url"
	if tags := surrogateKeys(r.Header); len(tags) > 0 {
		scope = "tag"
		for _, t := range tags {
			var k int
			k, err = h.o.Store.PurgeTag(ctx, t)
			n += k
			if err != nil {
				break
			}
		}
	} else if path := pathOf(r, info); strings.HasSuffix(path, "/*") {
		scope = "prefix"
		n, err = h.o.Store.PurgePrefix(ctx, urlKey(info.Scheme, r.Host, strings.TrimSuffix(path, "*")))
	} else {
		n, err = h.dropURL(ctx, urlPart(h.keys.key(r, info)))
	}
	if err != nil {
		h.o.Fail(w, r, fmt.Errorf("%w: purging the cache failed: %w", funnel.ErrUnavailable, err))
		return
	}
	hd := w.Header()
	hd["Content-Type"] = []string{"application/json"}
	hd["Cache-Control"] = []string{"no-store"}
	fmt.Fprintf(w, "{\"purged\":%d,\"scope\":%q}\n", n, scope)
}

func pathOf(r *http.Request, info *reqinfo.Info) string {
	if info.Path != "" {
		return info.Path
	}
	return r.URL.EscapedPath()
}

// urlPart is a key without the headers and cookies the route adds.
func urlPart(key string) string {
	if i := strings.Index(key, extraSep); i >= 0 {
		return key[:i]
	}
	return key
}

// dropURL deletes every key of one URL (whatever headers and cookies the
// key has) and returns how many it found.
func (h *handler) dropURL(ctx context.Context, u string) (int, error) {
	n := 0
	if vs, err := h.o.Store.Lookup(ctx, u); err == nil && len(vs) > 0 {
		n = 1
	}
	if err := h.o.Store.Delete(ctx, u); err != nil {
		return 0, err
	}
	if len(h.keys.headers) > 0 || len(h.keys.cookies) > 0 {
		k, err := h.o.Store.PurgePrefix(ctx, u+extraSep)
		return n + k, err
	}
	return n, nil
}

// forwardUnsafe passes a request with an unsafe method on, then drops
// what a non-error response to it invalidates (RFC 9111 4.4): the
// target, and the Location and Content-Location of the same origin.
func (h *handler) forwardUnsafe(w http.ResponseWriter, r *http.Request) {
	var sw wrap.Writer
	sw.Reset(w, nil)
	h.next.ServeHTTP(&sw, r)
	status := sw.Status()
	if status == 0 {
		status = http.StatusOK
	}
	info := reqinfo.From(r.Context())
	target, err := url.Parse(info.Scheme + "://" + r.Host + pathOf(r, info))
	if err != nil {
		return
	}
	target.RawQuery = r.URL.RawQuery
	ctx := context.WithoutCancel(r.Context())
	for _, u := range policy.InvalidationTargets(r.Method, target, status, w.Header()) {
		if _, err := h.dropURL(ctx, h.keys.urlKey(u)); err != nil {
			h.log.Warn("cache: invalidation failed", "url", u.String(), "error", err)
		}
	}
}

// urlKey is the key (URL part) of an absolute URL, its query as the
// route keys it.
func (k *keyer) urlKey(u *url.URL) string {
	var b strings.Builder
	writeURL(&b, u.Scheme, u.Host, u.EscapedPath())
	k.writeQuery(&b, u.RawQuery)
	return b.String()
}
