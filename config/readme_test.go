package config

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The README's "Every key, with its default" block is the reference users
// copy from, so TestREADMEDefaults holds it to the config structs:
//
//   - it decodes with the strict decoder Load uses (no unknown key, no wrong
//     type);
//   - every value it shows is the default, that is what ApplyDefaults (and
//     Load) fill in when the key is left out, unless the line's comment
//     starts with the word "example" ("# example" or "# example; ..."),
//     which marks a value that only illustrates (a required address, a
//     route's path). The mark applies to every key written on its line,
//     must mark some key, and must not sit on a line that shows only
//     defaults;
//   - every key the config structs accept appears in it at least once, on
//     a value of its type (a HeaderOps key shown under request_headers
//     documents response_headers too), so a new key cannot go
//     undocumented.
//
// examples.TestREADMEConfigs validates the same block in full (Load,
// with the certificate files it names made up).

// readmeBlockIntro is the line that introduces the block in README.md.
const readmeBlockIntro = "Every key, with its default:"

func TestREADMEDefaults(t *testing.T) {
	block, offset := readmeBlock(t)
	var doc yaml.Node
	if err := yaml.Unmarshal(block, &doc); err != nil || len(doc.Content) != 1 {
		t.Fatalf("README.md block does not parse as one YAML document: %v", err)
	}
	shown := Default()
	shown.pos = map[string]Pos{}
	if probs, _ := shown.decode(block, noEnv); len(probs) > 0 {
		for _, p := range probs {
			p.File, p.Pos.Line = "README.md", p.Pos.Line+offset
			t.Error(p)
		}
		t.FailNow()
	}
	shown.derive()

	w := &walker{offset: offset, comments: lineComments(doc.Content[0]), marked: map[int]bool{}, seen: map[reflect.Type]map[string]bool{}}
	w.walk(doc.Content[0], reflect.TypeFor[Config](), nil)
	for _, msg := range w.errs {
		t.Error(msg)
	}
	illustrates := map[int]bool{} // marked lines holding a value that is not the default
	for _, l := range w.leaves {
		if !checkLeaf(t, block, offset, shown, l) {
			illustrates[l.line] = true
		}
	}
	for _, line := range slices.Sorted(maps.Keys(w.comments)) {
		switch c := w.comments[line]; {
		case !isExampleMark(c):
		case !w.marked[line]:
			t.Errorf("README.md:%d: %q marks no key with a value", line+offset, c)
		case !illustrates[line]:
			t.Errorf("README.md:%d: marked %q but shows only defaults; drop the mark", line+offset, "# example")
		}
	}
	for _, missing := range undocumented(reflect.TypeFor[Config](), w.seen) {
		t.Errorf("README.md: %s is accepted by config but missing from the %q block; add it with its default", missing, readmeBlockIntro)
	}
}

// checkLeaf compares the value l shows with the default of its key, and
// reports whether it is the default.
func checkLeaf(t *testing.T, block []byte, offset int, shown *Config, l leaf) bool {
	t.Helper()
	where := fmt.Sprintf("README.md:%d: %s", l.line+offset, pathOf(l.steps))
	got := resolve(reflect.ValueOf(shown).Elem(), l.steps)
	applied, loaded := defaultsWithout(t, block, l)
	if !same(applied, loaded) {
		t.Errorf("%s: ApplyDefaults fills %s but Load fills %s when the key is absent", where, show(applied), show(loaded))
	}
	isDefault := same(got, applied)
	if !l.example && !isDefault {
		t.Errorf("%s: shows %s, but the default is %s; show the default, or mark the line %q if the value only illustrates",
			where, show(got), show(applied), "# example")
	}
	return isDefault
}

// readmeBlock returns the YAML block that follows readmeBlockIntro in
// ../README.md, and the README line number of the block's line 0 (so a
// block line n is README line n+offset).
func readmeBlock(t *testing.T) (block []byte, offset int) {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(readme, []byte(readmeBlockIntro))
	if i < 0 {
		t.Fatalf("README.md has no line %q", readmeBlockIntro)
	}
	const open, end = "```yaml\n", "\n```"
	j := bytes.Index(readme[i:], []byte(open))
	if j < 0 {
		t.Fatalf("README.md has no ```yaml block after %q", readmeBlockIntro)
	}
	start := i + j + len(open)
	k := bytes.Index(readme[start:], []byte(end))
	if k < 0 {
		t.Fatal("README.md: the block after " + readmeBlockIntro + " is not closed")
	}
	return readme[start : start+k+1], bytes.Count(readme[:start], []byte("\n"))
}

func noEnv(string) (string, bool) { return "", false }

// step is one step from a node to a child: a key of a mapping (struct
// field or map entry) or, when key is "", an index into a sequence.
type step struct {
	key   string
	index int
}

// pathOf writes steps as Problem.Path does: "listeners[1].tls.http2".
func pathOf(steps []step) string {
	var b strings.Builder
	for _, s := range steps {
		if s.key == "" {
			fmt.Fprintf(&b, "[%d]", s.index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}

// leaf is a key of the block that holds a value rather than a section.
type leaf struct {
	steps   []step
	line    int  // of the key in the block
	example bool // marked "# example"
	// bare is set for a target written as a plain URL: it has no key to
	// leave out, so its default is that of a target written as {}.
	bare bool
}

// walker walks the block's YAML alongside the config types.
type walker struct {
	offset   int            // README line of block line 0
	comments map[int]string // line comment of each block line that has one
	marked   map[int]bool   // lines whose example mark was used
	leaves   []leaf
	seen     map[reflect.Type]map[string]bool // keys written, by struct type
	errs     []string
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, steps []step) {
	t = deref(t)
	switch {
	case n.Kind == yaml.AliasNode:
		w.errf(n, "%s: the block must not use aliases, so each value is shown where it applies", pathOf(steps))
	case t == targetType && n.Kind == yaml.ScalarNode:
		w.see(t, "url")
		w.leaf(n, steps, step{key: "url"}, true)
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			w.errf(n, "%s: a section is written as a mapping", pathOf(steps))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			f, ok := fieldByKey(t, k.Value)
			if !ok {
				w.errf(k, "%s: no such key in %s", pathOf(append(slices.Clone(steps), step{key: k.Value})), t.Name())
				continue
			}
			w.see(t, k.Value)
			if isSection(f.Type) {
				w.walk(v, f.Type, append(slices.Clone(steps), step{key: k.Value}))
			} else {
				w.leaf(k, steps, step{key: k.Value}, false)
			}
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			w.walk(item, t.Elem(), append(slices.Clone(steps), step{index: i}))
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			w.walk(n.Content[i+1], t.Elem(), append(slices.Clone(steps), step{key: n.Content[i].Value}))
		}
	default:
		w.errf(n, "%s: does not fit %s", pathOf(steps), t)
	}
}

// leaf records the value at steps+last, written on the line of n.
func (w *walker) leaf(n *yaml.Node, steps []step, last step, bare bool) {
	example := isExampleMark(w.comments[n.Line])
	if example {
		w.marked[n.Line] = true
	}
	w.leaves = append(w.leaves, leaf{steps: append(slices.Clone(steps), last), line: n.Line, example: example, bare: bare})
}

func (w *walker) see(t reflect.Type, key string) {
	if w.seen[t] == nil {
		w.seen[t] = map[string]bool{}
	}
	w.seen[t][key] = true
}

func (w *walker) errf(n *yaml.Node, format string, args ...any) {
	w.errs = append(w.errs, fmt.Sprintf("README.md:%d: ", n.Line+w.offset)+fmt.Sprintf(format, args...))
}

// lineComments maps each line of the tree under n to the comment written at
// its end.
func lineComments(n *yaml.Node) map[int]string {
	out := map[int]string{}
	var visit func(*yaml.Node)
	visit = func(n *yaml.Node) {
		if n.LineComment != "" {
			out[n.Line] = n.LineComment
		}
		for _, c := range n.Content {
			visit(c)
		}
	}
	visit(n)
	return out
}

// isExampleMark reports whether a line comment starts with the word
// "example".
func isExampleMark(comment string) bool {
	rest, ok := strings.CutPrefix(strings.TrimLeft(comment, "# "), "example")
	return ok && (rest == "" || !isLetter(rest[0]))
}

func isLetter(b byte) bool { return 'a' <= b|0x20 && b|0x20 <= 'z' }

// defaultsWithout decodes the block with l's key left out, as ApplyDefaults
// and as Load would fill it, and returns the value each gives l's key.
func defaultsWithout(t *testing.T, block []byte, l leaf) (applied, loaded reflect.Value) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(block, &doc); err != nil {
		t.Fatal(err)
	}
	leaveOut(doc.Content[0], l)
	uncomment(doc.Content[0]) // comments could land where yaml.v3 writes them badly
	data, err := yaml.Marshal(doc.Content[0])
	if err != nil {
		t.Fatal(err)
	}
	decode := func(c *Config) *Config {
		c.pos = map[string]Pos{}
		if probs, _ := c.decode(data, noEnv); len(probs) > 0 {
			t.Fatalf("block without %s: %v", pathOf(l.steps), probs)
		}
		return c
	}
	a := decode(&Config{})
	a.ApplyDefaults()
	b := decode(Default())
	b.derive()
	return resolve(reflect.ValueOf(a).Elem(), l.steps), resolve(reflect.ValueOf(b).Elem(), l.steps)
}

// leaveOut removes l's key from the tree under root; a bare target becomes
// {}.
func leaveOut(root *yaml.Node, l leaf) {
	// The node at steps[:last] is the key's mapping, or a bare target.
	n, last := root, len(l.steps)-1
	for _, s := range l.steps[:last] {
		n = child(n, s)
	}
	if l.bare {
		*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle}
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == l.steps[last].key {
			n.Content = slices.Delete(n.Content, i, i+2)
			if len(n.Content) == 0 {
				n.Style = yaml.FlowStyle // "{}": an empty block mapping would be null
			}
			return
		}
	}
}

// uncomment removes every comment from the tree under n.
func uncomment(n *yaml.Node) {
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	for _, c := range n.Content {
		uncomment(c)
	}
}

// child is the node one step below n.
func child(n *yaml.Node, s step) *yaml.Node {
	if s.key == "" {
		return n.Content[s.index]
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == s.key {
			return n.Content[i+1]
		}
	}
	panic("no key " + s.key)
}

// resolve follows steps from v through pointers, struct fields (by key),
// map entries and slice elements. It returns the zero Value past a nil
// pointer or a missing entry.
func resolve(v reflect.Value, steps []step) reflect.Value {
	for _, s := range steps {
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}
			}
			v = v.Elem()
		}
		switch v.Kind() {
		case reflect.Struct:
			f, ok := fieldByKey(v.Type(), s.key)
			if !ok {
				return reflect.Value{}
			}
			v = v.FieldByIndex(f.Index)
		case reflect.Map:
			v = v.MapIndex(reflect.ValueOf(s.key))
		case reflect.Slice:
			if s.index >= v.Len() {
				return reflect.Value{}
			}
			v = v.Index(s.index)
		default:
			return reflect.Value{}
		}
		if !v.IsValid() {
			return v
		}
	}
	return v
}

// same reports whether a and b hold equal values; empty lists and maps
// equal absent ones, since "[]" and "{}" in the block show that default.
func same(a, b reflect.Value) bool {
	empty := func(v reflect.Value) bool {
		return !v.IsValid() || (v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.Len() == 0
	}
	if empty(a) || empty(b) {
		return empty(a) && empty(b)
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// show writes v as the block would, in flow style.
func show(v reflect.Value) string {
	if !v.IsValid() {
		return "nothing"
	}
	var n yaml.Node
	if err := n.Encode(v.Interface()); err != nil {
		return fmt.Sprint(v.Interface())
	}
	n.Style = yaml.FlowStyle
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "\n") {
		n.Style = yaml.DoubleQuotedStyle
	}
	out, err := yaml.Marshal(&n)
	if err != nil {
		return fmt.Sprint(v.Interface())
	}
	return strings.TrimSpace(string(out))
}

// undocumented lists, as "Type.key", the keys of every struct type
// reachable from t that seen does not hold.
func undocumented(t reflect.Type, seen map[reflect.Type]map[string]bool) []string {
	var out []string
	visited := map[reflect.Type]bool{}
	var visit func(reflect.Type)
	visit = func(t reflect.Type) {
		t = elemOf(t)
		if t.Kind() != reflect.Struct || visited[t] {
			return
		}
		visited[t] = true
		for _, f := range reflect.VisibleFields(t) {
			key := keyOf(f)
			if key == "" {
				continue
			}
			if !seen[t][key] {
				out = append(out, t.Name()+"."+key)
			}
			visit(f.Type)
		}
	}
	visit(t)
	return out
}

// isSection reports whether values of t are walked into rather than
// compared: structs, and lists and maps of them.
func isSection(t reflect.Type) bool { return elemOf(t).Kind() == reflect.Struct }

// elemOf strips pointers, slices and maps from t down to what they hold.
func elemOf(t reflect.Type) reflect.Type {
	for {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			t = t.Elem()
		default:
			return t
		}
	}
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// fieldByKey finds the exported field of struct type t whose yaml key is key.
func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for _, f := range reflect.VisibleFields(t) {
		if keyOf(f) == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// keyOf is the yaml key of an exported field, "" for others.
func keyOf(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}
