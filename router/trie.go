package router

import (
	"slices"
	"strings"
)

// node is one path segment in the prefix trie of a host group. The root
// stands for the prefix "/"; the node reached by the segments "api", "v1"
// stands for "/api/v1".
type node[V any] struct {
	// children are keyed by the next raw (escaped) segment; nil when none.
	children map[string]*node[V]
	// rules have exactly this node's prefix, in precedence order once
	// sort has run.
	rules []entry[V]
}

// insert adds e under the node reached from n by segs.
func (n *node[V]) insert(segs []string, e entry[V]) {
	for _, seg := range segs {
		child := n.children[seg]
		if child == nil {
			if n.children == nil {
				n.children = map[string]*node[V]{}
			}
			child = &node[V]{}
			n.children[seg] = child
		}
		n = child
	}
	n.rules = append(n.rules, e)
}

// sort puts the rules of n and all its descendants in precedence order. It
// does nothing on a nil node.
func (n *node[V]) sort() {
	if n == nil {
		return
	}
	slices.SortFunc(n.rules, func(a, b entry[V]) int { return a.before(&b) })
	for _, child := range n.children {
		child.sort()
	}
}

// match returns the first rule under n, longest prefix first, whose prefix
// matches and whose conditions q meets; nil if none does or n is nil. rest
// is what the path holds after n's prefix: empty or starting with "/".
// The recursion is bounded by the depth of the trie, not of the path.
func (n *node[V]) match(rest string, q *request) *entry[V] {
	if n == nil {
		return nil
	}
	if len(rest) > 1 && n.children != nil {
		seg, tail := rest[1:], ""
		if i := strings.IndexByte(seg, '/'); i >= 0 {
			seg, tail = seg[:i], seg[i:]
		}
		if e := n.children[seg].match(tail, q); e != nil {
			return e
		}
	}
	for i := range n.rules {
		if n.rules[i].admits(q) {
			return &n.rules[i]
		}
	}
	return nil
}
