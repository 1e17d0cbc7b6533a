package router

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/urlpath"
)

// Rule is one routing rule: the conditions a request must meet and the
// Value Match returns for it. See the package doc for how they are matched
// and which rule wins.
type Rule[V any] struct {
	// Hosts are exact names or "*." wildcards; empty matches any host.
	Hosts []string
	// Prefix is a normalized path prefix starting with "/"; "/" matches
	// every path, and a trailing slash is ignored.
	Prefix string
	// Methods, if not empty, are the request methods the rule accepts.
	Methods []string
	// Headers must all be present with the given values.
	Headers []Header
	// Cond, if not nil, is one more condition, for anything the fields
	// above cannot say (package runtime uses it for TLS facts). It is
	// called only when everything else about the rule matched, may be
	// called concurrently, and must not modify the request.
	Cond func(*http.Request) bool
	// Value is what Match returns when this rule wins.
	Value V
}

// Header is a header condition. Value "*" only requires that the header be
// present; any other Value must equal one of the header's values exactly.
// Name is matched in canonical form, case-insensitively.
type Header struct{ Name, Value string }

// Router matches requests against a fixed set of rules. It is immutable
// once New returns it and safe for concurrent use by any number of
// goroutines. The zero Router matches nothing.
type Router[V any] struct {
	exact map[string]*node[V] // by lower-case host name
	wild  map[string]*node[V] // by lower-case wildcard suffix, dot included: ".example.com"
	any   *node[V]            // rules without Hosts; nil if there are none
}

// New compiles rules into a Router. The rules slice and everything it
// refers to are copied, so the caller may reuse them. The error names the
// first malformed rule (by index): a bad host or wildcard, a host with a
// port, a prefix that does not start with "/" or is not normalized, an
// empty method, or an invalid header name. An empty rules slice gives a
// Router that matches nothing.
func New[V any](rules []Rule[V]) (*Router[V], error) {
	r := &Router[V]{exact: map[string]*node[V]{}, wild: map[string]*node[V]{}}
	for i, rule := range rules {
		if err := r.add(i, rule); err != nil {
			return nil, fmt.Errorf("rule %d: %w", i, err)
		}
	}
	for _, n := range r.exact {
		n.sort()
	}
	for _, n := range r.wild {
		n.sort()
	}
	r.any.sort()
	return r, nil
}

// add inserts rule, the index-th, into the trie of each of its host groups.
func (r *Router[V]) add(index int, rule Rule[V]) error {
	e, segs, err := compile(index, rule)
	if err != nil {
		return err
	}
	if len(rule.Hosts) == 0 {
		if r.any == nil {
			r.any = &node[V]{}
		}
		r.any.insert(segs, e)
		return nil
	}
	var seen []string
	for _, h := range rule.Hosts {
		key, wildcard, err := parsePattern(h)
		if err != nil {
			return err
		}
		if slices.Contains(seen, key) {
			continue
		}
		seen = append(seen, key)
		groups := r.exact
		if wildcard {
			groups = r.wild
		}
		if groups[key] == nil {
			groups[key] = &node[V]{}
		}
		groups[key].insert(segs, e)
	}
	return nil
}

// Match returns the Value of the rule that wins for request r, and
// whether any rule matched. host is the request's Host as received (port,
// case and trailing dot allowed); path is its normalized path
// (urlpath.Normalize). The method, the header (keys in canonical form, as
// net/http provides them) and whatever Cond functions look at are read
// from r, which must not be nil. Match does not allocate (beyond what Cond
// functions do) and is safe for concurrent use.
func (r *Router[V]) Match(host, path string, req *http.Request) (v V, ok bool) {
	q := request{path: path, r: req}
	var e *entry[V]
	switch name := hostname(host); {
	case len(name) > maxHostLen:
		e = r.any.match(path, &q)
	case isLower(name):
		e = matchHost(r, name, &q)
	default:
		var buf [maxHostLen]byte
		e = matchHost(r, toLower(buf[:len(name)], name), &q)
	}
	if e == nil {
		return v, false
	}
	return e.value, true
}

// matchHost tries the host groups matching name, which is lower case, in
// precedence order. It is generic so that a name lowered into a stack
// buffer can index the maps without being turned into a string.
func matchHost[V any, S string | []byte](r *Router[V], name S, q *request) *entry[V] {
	if e := r.exact[string(name)].match(q.path, q); e != nil {
		return e
	}
	if len(r.wild) > 0 {
		// Each dot after the first label starts a suffix, longest first.
		for i := 1; i < len(name); i++ {
			if name[i] != '.' {
				continue
			}
			if e := r.wild[string(name[i:])].match(q.path, q); e != nil {
				return e
			}
		}
	}
	return r.any.match(q.path, q)
}

// request is what Match was asked about, passed down by pointer so the
// trie walk does not copy it per level.
type request struct {
	path string
	r    *http.Request
}

// compile validates rule and returns its trie entry and the segments of its
// prefix, empty for "/".
func compile[V any](index int, rule Rule[V]) (entry[V], []string, error) {
	segs, err := prefixSegments(rule.Prefix)
	if err != nil {
		return entry[V]{}, nil, err
	}
	e, err := newEntry(index, rule)
	return e, segs, err
}

// prefixSegments checks prefix and splits it into segments, ignoring a
// trailing slash: "/api/v1/" gives ["api" "v1"], "/" gives none.
func prefixSegments(prefix string) ([]string, error) {
	if !strings.HasPrefix(prefix, "/") {
		return nil, fmt.Errorf("prefix %q does not start with \"/\"", prefix)
	}
	norm, ok := urlpath.Normalize(prefix)
	if !ok {
		return nil, fmt.Errorf("prefix %q is not a valid path", prefix)
	}
	if norm != prefix {
		return nil, fmt.Errorf("prefix %q is not normalized; write %q", prefix, norm)
	}
	trimmed := strings.TrimSuffix(prefix[1:], "/")
	if trimmed == "" {
		return nil, nil
	}
	return strings.Split(trimmed, "/"), nil
}
