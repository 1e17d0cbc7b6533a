// Package headers edits request and response headers as configured per
// route: remove, then set, then add. Values may hold placeholders such as
// {client_ip} or {tls_client_subject} (the list is on config.HeaderOps),
// replaced per request; a value without any is used as it is, with no
// per-request work.
package headers

import (
	"fmt"
	"maps"
	"net/http"
	"net/textproto"
	"slices"

	"github.com/gatehouse-proxy/gatehouse/config"
)

// Ops is a compiled set of header edits. Nil means no edits. Immutable and
// safe for concurrent use.
type Ops struct {
	remove []string
	set    []op
	add    []op
	facts  Facts
}

// op is one header to set or add: a literal value, or the segments it is
// expanded from per request.
type op struct {
	name string // canonical
	lit  string
	segs []segment // nil for a literal value
}

// value returns o's value for r.
func (o *op) value(r *http.Request, f Facts) string {
	if o.segs == nil {
		return o.lit
	}
	return expand(o.segs, r, f)
}

// Compile turns config into Ops with canonical header names, or returns nil
// when there is nothing to do. facts supplies {client_ip} and
// {request_id}; with nil facts they are empty. The error names the header
// whose value has an unknown placeholder. Names are sorted, so the order
// of edits does not depend on map order (each name appears once per map).
func Compile(c config.HeaderOps, facts Facts) (*Ops, error) {
	if len(c.Set) == 0 && len(c.Add) == 0 && len(c.Remove) == 0 {
		return nil, nil
	}
	o := &Ops{facts: facts}
	for _, k := range c.Remove {
		o.remove = append(o.remove, textproto.CanonicalMIMEHeaderKey(k))
	}
	var err error
	if o.set, err = compileOps("set", c.Set); err != nil {
		return nil, err
	}
	if o.add, err = compileOps("add", c.Add); err != nil {
		return nil, err
	}
	return o, nil
}

func compileOps(kind string, m map[string]string) ([]op, error) {
	var ops []op
	for _, k := range slices.Sorted(maps.Keys(m)) {
		segs, err := parse(m[k])
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", kind, k, err)
		}
		ops = append(ops, op{name: textproto.CanonicalMIMEHeaderKey(k), lit: m[k], segs: segs})
	}
	return ops, nil
}

// Edit edits h, the header of request r or of the response to it, in
// place. r supplies the placeholders' values. A set whose value is empty
// removes the header (as nginx's proxy_set_header does), so a client's
// copy never passes for a fact Gatehouse did not have; an add whose value
// is empty adds nothing. Value slices already in h are never written to,
// so a header whose slices are shared with another (an outbound copy of
// an inbound request) is safe to edit.
func (o *Ops) Edit(h http.Header, r *http.Request) {
	if o == nil {
		return
	}
	for _, k := range o.remove {
		delete(h, k)
	}
	for i := range o.set {
		e := &o.set[i]
		if v := e.value(r, o.facts); v != "" {
			h[e.name] = []string{v}
		} else {
			delete(h, e.name)
		}
	}
	for i := range o.add {
		e := &o.add[i]
		if v := e.value(r, o.facts); v != "" {
			old := h[e.name]
			h[e.name] = append(old[:len(old):len(old)], v)
		}
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
			next.ServeHTTP(&writer{ResponseWriter: w, ops: o, req: r}, r)
		})
	}
}

// writer applies ops once, at the first final status or body write.
type writer struct {
	http.ResponseWriter
	ops  *Ops
	req  *http.Request // the request answered, for placeholders
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
		w.ops.Edit(w.ResponseWriter.Header(), w.req)
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
