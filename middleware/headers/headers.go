// Package headers edits request and response headers as configured per
// route: remove, then set, then add. Values may hold placeholders such as
// {client_ip} or {tls_client_subject} (Placeholders lists them), replaced
// per request; a value without any is used as it is, with no per-request
// work. Request edits apply to the header sent upstream, after the
// forwarding headers; response edits to the header sent to the client.
package headers

import (
	"fmt"
	"maps"
	"net/http"
	"net/textproto"
	"slices"

	"github.com/gatehouse-proxy/gatehouse/middleware/wrap"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// Ops is a compiled set of header edits. Nil means no edits. Immutable and
// safe for concurrent use.
type Ops struct {
	remove []string
	set    []op
	add    []op
}

// Spec is one set of edits as configured: header names to remove, and
// names with the values to set or add.
type Spec struct {
	Remove   []string
	Set, Add map[string]string
}

// op is one header to set or add: a literal value, or the segments it is
// expanded from per request.
type op struct {
	name string // canonical
	lit  string
	segs []segment // nil for a literal value
}

// value returns o's value for r.
func (o *op) value(r *http.Request) string {
	if o.segs == nil {
		return o.lit
	}
	return expand(o.segs, r)
}

// Compile turns a Spec into Ops with canonical header names, or returns
// nil when there is nothing to do. The error names the header whose value
// has an unknown placeholder (config has refused those already). Names
// are sorted, so the order of edits does not depend on map order (each
// name appears once per map).
func Compile(c Spec) (*Ops, error) {
	if len(c.Set) == 0 && len(c.Add) == 0 && len(c.Remove) == 0 {
		return nil, nil
	}
	o := &Ops{}
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
		if v := e.value(r); v != "" {
			h[e.name] = []string{v}
		} else {
			delete(h, e.name)
		}
	}
	for i := range o.add {
		e := &o.add[i]
		if v := e.value(r); v != "" {
			old := h[e.name]
			h[e.name] = append(old[:len(old):len(old)], v)
		}
	}
}

// Request returns middleware that has o applied to the header sent
// upstream (through the request's facts, so the inbound request is never
// copied or changed). With nil o it returns next unchanged.
func Request(o *Ops) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if o == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reqinfo.From(r.Context()).AddOutbound(o)
			next.ServeHTTP(w, r)
		})
	}
}

// EditOutbound implements reqinfo.OutboundEditor.
func (o *Ops) EditOutbound(h http.Header, r *http.Request) { o.Edit(h, r) }

// Response returns middleware applying o to every response header just
// before it is written. With nil o it returns next unchanged.
func Response(o *Ops) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if o == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rw := &writer{ops: o, req: r}
			rw.Reset(w, rw)
			next.ServeHTTP(rw, r)
		})
	}
}

// writer applies ops once, just before the response header is written.
type writer struct {
	wrap.Writer
	ops *Ops
	req *http.Request // the request answered, for placeholders
}

// BeforeHeader implements wrap.Hooks.
func (w *writer) BeforeHeader(int) { w.ops.Edit(w.Header(), w.req) }

var (
	_ wrap.Hooks             = (*writer)(nil)
	_ reqinfo.OutboundEditor = (*Ops)(nil)
)
