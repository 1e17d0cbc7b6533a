package router

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// entry is a compiled rule: its conditions other than host and path, its
// place in the precedence order, and its value.
type entry[V any] struct {
	methods []string
	headers []Header // names in canonical form
	cond    func(*http.Request) bool
	// conds counts the conditions: one for methods, one per header, one
	// for cond.
	conds int
	// index is the rule's position in the slice given to New.
	index int
	value V
}

// newEntry validates the method and header conditions of rule and copies
// them into an entry.
func newEntry[V any](index int, rule Rule[V]) (entry[V], error) {
	e := entry[V]{methods: slices.Clone(rule.Methods), cond: rule.Cond, index: index, value: rule.Value}
	if slices.Contains(e.methods, "") {
		return e, errors.New("empty method")
	}
	if len(e.methods) > 0 {
		e.conds++
	}
	for _, h := range rule.Headers {
		if !isToken(h.Name) {
			return e, fmt.Errorf("invalid header name %q", h.Name)
		}
		e.headers = append(e.headers, Header{http.CanonicalHeaderKey(h.Name), h.Value})
		e.conds++
	}
	if e.cond != nil {
		e.conds++
	}
	return e, nil
}

// admits reports whether q meets e's method, header and Cond conditions,
// checked in that order so that Cond, which may do real work, runs last.
func (e *entry[V]) admits(q *request) bool {
	if len(e.methods) > 0 && !slices.Contains(e.methods, q.r.Method) {
		return false
	}
	for _, want := range e.headers {
		values := q.r.Header[want.Name]
		if want.Value == "*" && len(values) == 0 ||
			want.Value != "*" && !slices.Contains(values, want.Value) {
			return false
		}
	}
	return e.cond == nil || e.cond(q.r)
}

// before reports whether e is tried before f when both have the same
// prefix in the same group: more conditions first, then file order.
func (e *entry[V]) before(f *entry[V]) int {
	if e.conds != f.conds {
		return f.conds - e.conds
	}
	return e.index - f.index
}

// isToken reports whether s is a valid header field name (RFC 9110 token).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
