// Package bodylimit bounds the size of request bodies: a declared length
// over the limit is refused (413) before anything reaches the action, and
// a body without a declared length (chunked, HTTP/2 and HTTP/3 streams)
// fails with 413 when it grows past the limit while being read.
package bodylimit

import (
	"fmt"
	"net/http"

	"github.com/gatehouse-proxy/gatehouse/funnel"
)

// Options configure the limit. Validated by config.
type Options struct {
	// Max is the most bytes a request body may have; 0 means no limit.
	Max int64
}

// New returns the middleware, or nil when there is no limit. Refusals go
// to fail.
func New(o Options, fail func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	if o.Max <= 0 {
		return nil
	}
	limit := o.Max
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength != 0 {
				if r.ContentLength > limit {
					fail(w, r, fmt.Errorf("declared %d bytes, limit %d: %w", r.ContentLength, limit, funnel.ErrBodyTooLarge))
					return
				}
				// The handler owns r (the root handler made it with
				// WithContext), so its Body may be replaced.
				r.Body = http.MaxBytesReader(w, r.Body, limit)
			}
			next.ServeHTTP(w, r)
		})
	}
}
