// Package bodylimit bounds the size of request bodies: a declared length
// over the limit is refused (413) before anything reaches the action, and
// a body without a declared length (chunked, HTTP/2 and HTTP/3 streams)
// fails with 413 when it grows past the limit while being read.
package bodylimit

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/internal/splice"
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
				// WithContext, or Gatehouse's engine gave it to the
				// handlers alone), so its Body may be replaced.
				r.Body = newLimited(w, r.Body, limit)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// limited is http.MaxBytesReader (its errors, its telling net/http's
// server to close the connection), which also passes splice.Source's
// SpliceTo down to the body it wraps, never for more than the limit left:
// a large upload can then go socket to socket in the kernel and still
// never send a byte past the limit.
type limited struct {
	io.ReadCloser // the http.MaxBytesReader over body, for what is read
	w             http.ResponseWriter
	body          io.ReadCloser
	limit, left   int64 // the limit, and what is left of it
}

func (l *limited) Read(p []byte) (int, error) {
	n, err := l.ReadCloser.Read(p)
	l.left -= int64(n)
	var mb *http.MaxBytesError
	if errors.As(err, &mb) && mb.Limit != l.limit {
		err = &http.MaxBytesError{Limit: l.limit} // a reader made after a splice counts from less
	}
	return n, err
}

func newLimited(w http.ResponseWriter, body io.ReadCloser, limit int64) *limited {
	return &limited{ReadCloser: http.MaxBytesReader(w, body, limit), w: w, body: body, limit: limit, left: limit}
}

// SpliceTo implements splice.Source.
func (l *limited) SpliceTo(dst *net.TCPConn, max int64, h splice.Hooks) (int64, error) {
	s, ok := l.body.(splice.Source)
	if !ok || l.left <= 0 {
		return 0, errors.ErrUnsupported
	}
	n, err := s.SpliceTo(dst, min(max, l.left), h)
	if n > 0 {
		// What is read next counts against what is left of the limit.
		l.left -= n
		l.ReadCloser = http.MaxBytesReader(l.w, l.body, l.left)
	}
	return n, err
}
