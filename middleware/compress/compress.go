package compress

import (
	"net/http"
	"sync"
)

// compressor is the compiled middleware: Options checked, defaults
// resolved. Immutable after compile but for its pool; safe for
// concurrent use.
type compressor struct {
	encodings []string // offered, most preferred first
	codings   []coding // encodings[i]'s coding
	levels    []int    // encodings[i]'s level
	types     types
	minBytes  int64
	// writers holds idle writers, with their buffers (at most minBytes).
	// Per compressor since the buffers' size is.
	writers sync.Pool
}

// New returns the compression middleware, or an error naming every
// problem with o. The middleware is built once; what it does to each
// response is described in the package documentation.
func New(o Options) (func(http.Handler) http.Handler, error) {
	c, err := compile(o)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			w := c.writer(rw, r)
			next.ServeHTTP(w, r)
			w.finish()
			// Not deferred: after a panic the writer (and its encoder) is
			// left to the garbage collector, as whatever the handler was
			// doing with it is unknown.
			c.release(w)
		})
	}, nil
}

// writer returns a pooled writer for the response to r. The coding is
// chosen now; whether it is used waits for the response header.
func (c *compressor) writer(rw http.ResponseWriter, r *http.Request) *writer {
	w, _ := c.writers.Get().(*writer)
	if w == nil {
		w = &writer{c: c}
	}
	w.Reset(rw, w)
	w.pick = -1
	if _, ranged := r.Header["Range"]; !ranged && r.Method != http.MethodHead {
		w.pick = pick(r.Header["Accept-Encoding"], c.encodings)
	}
	return w
}

// release returns w and its encoder to their pools.
func (c *compressor) release(w *writer) {
	if w.enc != nil {
		putEncoder(c.codings[w.pick], c.levels[w.pick], w.enc)
	}
	*w = writer{c: c, buf: w.buf[:0]}
	c.writers.Put(w)
}
