package cache

import (
	"context"
	"net/http"
	"runtime/debug"

	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// revalidateLater refreshes x's stored response in the background, once
// per key at a time, after x was answered stale within
// stale-while-revalidate (RFC 5861 3).
func (h *handler) revalidateLater(x *exchange) {
	fl, leader := h.refresh.join(x.key)
	if !leader {
		return
	}
	ctx, info := reqinfo.Detach(context.WithoutCancel(x.r.Context()), x.info)
	ctx, cancel := context.WithTimeout(ctx, h.o.RevalidateTimeout)
	r := x.r.Clone(ctx)
	r.Method = http.MethodGet
	r.Body = http.NoBody
	r.ContentLength = 0
	delete(r.Header, "If-None-Match")
	delete(r.Header, "If-Modified-Since")
	delete(r.Header, "If-Match")
	delete(r.Header, "If-Unmodified-Since")
	bg := &exchange{h: h, r: r, info: info, key: x.key, rd: x.rd, cands: x.cands, variants: x.variants, background: true}
	go func() {
		defer cancel()
		defer h.refresh.done(x.key, fl)
		defer func() {
			// The funnel aborts a broken response with a panic; here no
			// server is above to catch it.
			if v := recover(); v != nil && v != http.ErrAbortHandler {
				h.log.Error("cache: background revalidation panicked", "key", x.key, "panic", v, "stack", string(debug.Stack()))
			}
		}()
		w := &discard{h: make(http.Header)}
		bg.fetch(w)
		if info.Err != nil {
			h.log.Warn("cache: background revalidation failed", "key", x.key, "error", info.Err)
		}
	}()
}

// discard is the ResponseWriter of a background revalidation: the
// response only goes to the store.
type discard struct {
	h    http.Header
	code int
}

func (d *discard) Header() http.Header { return d.h }

func (d *discard) WriteHeader(code int) {
	if d.code == 0 && code >= 200 {
		d.code = code
	}
}

func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
