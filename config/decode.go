package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder decodes a yaml.Node tree into the config structs. Unlike yaml.v3's
// own decoder it is strict (unknown keys, wrong types and duplicate keys are
// problems), records the position of every node it decodes, and keeps going
// after a problem so that one run reports all of them.
//
// It decodes over values that already hold their defaults: elements it
// allocates (list items, map values, pointed-to structs) are filled by their
// fillDefaults method first, and null leaves a value as it is. So a key
// left out (or null) keeps its default while an explicit zero
// ("max_fails: 0") is kept.
type decoder struct {
	file   string
	lookup func(string) (string, bool)
	// pos maps each decoded path to where it is defined (see record).
	pos   map[string]Pos
	probs Problems
	// budget is how many more nodes may be visited: aliases can make a
	// small document expand exponentially. Load allows one per byte of
	// input plus 10000, far beyond what a real config uses.
	budget int
}

// maxMergeDepth bounds nested "<<" merges, which may also form cycles.
const maxMergeDepth = 16

var (
	durationType = reflect.TypeFor[Duration]()
	sizeType     = reflect.TypeFor[Size]()
	stringsType  = reflect.TypeFor[Strings]()
	targetType   = reflect.TypeFor[Target]()
)

// entry is one key/value pair of a mapping.
type entry struct{ key, val *yaml.Node }

// decode decodes n into v, which must be settable.
func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	if !d.spend(n, path) {
		return
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if isNull(n) {
		return
	}
	switch v.Type() {
	case stringsType:
		d.strings(n, path, v)
		return
	case targetType:
		if n.Kind == yaml.ScalarNode {
			if s, ok := d.text(n, path); ok {
				v.Addr().Interface().(*Target).URL = s
			}
			return
		}
	}
	switch v.Kind() {
	case reflect.Pointer:
		// Allocated only for a value that is not null: "active:" alone is
		// the same as no "active" key, while "active: {}" turns active
		// checks on with their defaults. So a Config written out by
		// yaml.Marshal ("active: null") reads back the same.
		if v.IsNil() {
			v.Set(newElem(v.Type().Elem()))
		}
		d.decode(n, path, v.Elem())
	case reflect.Struct:
		d.structure(n, path, v)
	case reflect.Slice:
		d.sequence(n, path, v)
	case reflect.Map:
		d.mapping(n, path, v)
	default:
		d.scalar(n, path, v)
	}
}

// spend takes one node from the budget, reporting once when it runs out.
func (d *decoder) spend(n *yaml.Node, path string) bool {
	if d.budget <= 0 {
		return false
	}
	d.budget--
	if d.budget == 0 {
		d.problem(n, path, "the document expands to too many values through aliases and merges; use fewer of them")
		return false
	}
	return true
}

// structure decodes a mapping into a struct by the fields' yaml tags.
func (d *decoder) structure(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.mismatch(n, path, v.Type())
		return
	}
	names := fieldNames(v.Type())
	for _, e := range d.entries(n, path, 0) {
		sub := join(path, e.key.Value)
		i := indexOf(names, e.key.Value)
		if i < 0 {
			d.unknownKey(e.key, sub, names)
			continue
		}
		d.record(sub, e)
		d.decode(e.val, sub, v.Field(i))
	}
}

// sequence decodes a list into a slice, replacing what v held.
func (d *decoder) sequence(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.mismatch(n, path, v.Type())
		return
	}
	s := reflect.MakeSlice(v.Type(), 0, len(n.Content))
	for i, item := range n.Content {
		sub := fmt.Sprintf("%s[%d]", path, i)
		d.pos[sub] = posOf(item)
		e := newElem(v.Type().Elem())
		d.decode(item, sub, e.Elem())
		s = reflect.Append(s, e.Elem())
	}
	v.Set(s)
}

// mapping decodes a mapping into a map[string]T. Each entry's path points at
// its key, so a bad name is reported where it is written.
func (d *decoder) mapping(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.mismatch(n, path, v.Type())
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for _, e := range d.entries(n, path, 0) {
		sub := join(path, e.key.Value)
		d.pos[sub] = posOf(e.key)
		elem := newElem(v.Type().Elem())
		d.decode(e.val, sub, elem.Elem())
		v.SetMapIndex(reflect.ValueOf(e.key.Value), elem.Elem())
	}
}

// strings decodes Strings from one scalar or a list of scalars.
func (d *decoder) strings(n *yaml.Node, path string, v reflect.Value) {
	switch n.Kind {
	case yaml.ScalarNode:
		if s, ok := d.text(n, path); ok {
			v.Set(reflect.ValueOf(Strings{s}))
		}
	case yaml.SequenceNode:
		d.sequence(n, path, v)
	default:
		d.mismatch(n, path, v.Type())
	}
}

// scalar decodes a scalar after expanding environment references in it.
func (d *decoder) scalar(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.ScalarNode {
		d.mismatch(n, path, v.Type())
		return
	}
	s, ok := d.text(n, path)
	if !ok {
		return
	}
	if err := setScalar(v, s); err != nil {
		d.problem(n, path, "%v", err)
	}
}

// text returns a scalar's value with environment references expanded.
func (d *decoder) text(n *yaml.Node, path string) (string, bool) {
	s, err := expand(n.Value, d.lookup)
	if err != nil {
		d.problem(n, path, "%v", err)
		return "", false
	}
	return s, true
}

// entries lists a mapping's pairs in order, reporting keys that are not
// scalars and duplicate keys. Pairs merged in with "<<: *anchor" follow,
// unless the mapping sets their key itself; earlier merges win over later.
func (d *decoder) entries(n *yaml.Node, path string, depth int) []entry {
	var own, merged []entry
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		switch {
		case !d.spend(k, path):
			return own
		case k.Kind == yaml.ScalarNode && k.Tag == "!!merge":
			merged = append(merged, d.merge(val, path, depth)...)
		case k.Kind != yaml.ScalarNode:
			d.problem(k, path, "a key must be a plain string, got %s", describe(k))
		case seen[k.Value] != nil:
			d.problem(k, join(path, k.Value), "duplicate key %q; it is already set at line %d", k.Value, seen[k.Value].Line)
		default:
			seen[k.Value] = k
			own = append(own, entry{k, val})
		}
	}
	for _, e := range merged {
		if seen[e.key.Value] == nil {
			seen[e.key.Value] = e.key
			own = append(own, e)
		}
	}
	return own
}

// merge returns the entries a "<<" value brings in: one mapping or a list
// of mappings, usually aliases.
func (d *decoder) merge(n *yaml.Node, path string, depth int) []entry {
	if depth >= maxMergeDepth {
		d.problem(n, path, "merges (<<) nest more than %d deep", maxMergeDepth)
		return nil
	}
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var out []entry
	for _, item := range items {
		if !d.spend(item, path) {
			break
		}
		if item.Kind == yaml.AliasNode {
			item = item.Alias
		}
		if item.Kind != yaml.MappingNode {
			d.problem(item, path, "<< takes a mapping or a list of mappings, got %s", describe(item))
			continue
		}
		out = append(out, d.entries(item, path, depth+1)...)
	}
	return out
}

// record notes where path is defined: at its value when that is a scalar,
// else at its key (a mapping or list value starts on a later line, and null
// values have no position of their own).
func (d *decoder) record(path string, e entry) {
	val := e.val
	if val.Kind == yaml.AliasNode {
		val = val.Alias
	}
	n := e.val
	if val.Kind != yaml.ScalarNode || isNull(val) {
		n = e.key
	}
	d.pos[path] = posOf(n)
}

func (d *decoder) unknownKey(k *yaml.Node, path string, names []string) {
	allowed := slices.DeleteFunc(slices.Clone(names), func(s string) bool { return s == "" })
	hint := ""
	if s := suggest(k.Value, allowed); s != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", s)
	}
	d.problem(k, path, "unknown key %q%s; allowed keys: %s", k.Value, hint, strings.Join(allowed, ", "))
}

func (d *decoder) mismatch(n *yaml.Node, path string, t reflect.Type) {
	d.problem(n, path, "expected %s, got %s", expectation(t), describe(n))
}

func (d *decoder) problem(n *yaml.Node, path, format string, args ...any) {
	d.probs = append(d.probs, Problem{File: d.file, Pos: posOf(n), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// newElem allocates a T holding its defaults and returns a pointer to it.
func newElem(t reflect.Type) reflect.Value {
	p := reflect.New(t)
	if f, ok := p.Interface().(defaulter); ok {
		f.fillDefaults()
	}
	return p
}

// fieldNames lists a struct's yaml keys, indexed like its fields; "" for
// fields without one (unexported fields).
func fieldNames(t reflect.Type) []string {
	names := make([]string, t.NumField())
	for i := range names {
		names[i], _, _ = strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
	}
	return names
}

func indexOf(names []string, key string) int {
	for i, name := range names {
		if name != "" && name == key {
			return i
		}
	}
	return -1
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func posOf(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

// join appends a key to a path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
