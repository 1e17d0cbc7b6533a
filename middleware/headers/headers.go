// Package headers edits request and response headers as configured per
// route: remove, then set, then add.
package headers

import (
	"net/http"
	"net/textproto"

	"github.com/gatehouse-proxy/gatehouse/config"
)

// Ops is a compiled set of header edits. Nil means no edits. Immutable and
// safe for concurrent use.
type Ops struct {
	remove []string
	set    []kv
	add    []kv
}

type kv struct{ k, v string }

// Compile turns config into Ops with canonical header names, or returns nil
// when there is nothing to do. Map order is not significant because each
// name appears once per map.
func Compile(c config.HeaderOps) *Ops {
	if len(c.Set) == 0 && len(c.Add) == 0 && len(c.Remove) == 0 {
		return nil
	}
	o := &Ops{}
	for _, k := range c.Remove {
		o.remove = append(o.remove, textproto.CanonicalMIMEHeaderKey(k))
	}
	for k, v := range c.Set {
		o.set = append(o.set, kv{textproto.CanonicalMIMEHeaderKey(k), v})
	}
	for k, v := range c.Add {
		o.add = append(o.add, kv{textproto.CanonicalMIMEHeaderKey(k), v})
	}
	return o
}

// Apply edits h in place. Value slices already in h are never written to,
// so a header whose slices are shared with another (an outbound copy of
// an inbound request) is safe to edit.
func (o *Ops) Apply(h http.Header) {
	if o == nil {
		return
	}
	for _, k := range o.remove {
		delete(h, k)
	}
	for _, e := range o.set {
		h[e.k] = []string{e.v}
	}
	for _, e := range o.add {
		old := h[e.k]
		h[e.k] = append(old[:len(old):len(old)], e.v)
	}
}

// Response returns middleware applying o to every response header just
// before it is written. With nil o it returns next unchanged.
func Response(o *Ops) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if o == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(&writer{ResponseWriter: w, ops: o}, r)
		})
	}
}

// writer applies ops once, at the first final status or body write.
type writer struct {
	http.ResponseWriter
	ops  *Ops
	done bool
}

func (w *writer) WriteHeader(code int) {
	if code >= 200 {
		w.FinalizeHeader(code)
	}
	w.ResponseWriter.WriteHeader(code)
}

// FinalizeHeader applies the edits now, for a response written without
// WriteHeader (a 101 on a hijacked connection). See proxy.HeaderFinalizer.
func (w *writer) FinalizeHeader(int) {
	if !w.done {
		w.done = true
		w.ops.Apply(w.ResponseWriter.Header())
	}
}

func (w *writer) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// FlushError and Flush pass through so streaming responses still stream.
func (w *writer) FlushError() error {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *writer) Flush() { _ = w.FlushError() }

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
