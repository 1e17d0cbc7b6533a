package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LoadFile reads and loads the config file at path, expanding environment
// references from the process environment. See Load.
func LoadFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Load(data, path, os.LookupEnv)
}

// Load decodes a YAML config, fills the defaults and validates it. file
// names the source in problems ("" is fine). lookup resolves ${VAR}
// references in values; nil means os.LookupEnv.
//
// On success the Config is returned and remembers where each setting was
// written (PosOf). Otherwise the Config is nil and the error is a non-empty
// Problems holding every problem found, decoding and validation alike,
// ordered by position. Validation problems about a setting that could not
// be decoded are left out, as they would only repeat the decoding problem.
func Load(data []byte, file string, lookup func(string) (string, bool)) (*Config, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	c := Default()
	c.file = file
	c.pos = map[string]Pos{}
	c.engine, _ = lookup(EngineEnv)
	probs, complete := c.decode(data, lookup)
	if complete {
		c.derive()
		probs = append(probs, unrelated(c.Validate(), probs)...)
	}
	if len(probs) > 0 {
		probs.sort()
		return nil, probs
	}
	return c, nil
}

// decode decodes data over c. complete is false when what was decoded is not
// worth validating: after a syntax error, for a document that is not a
// mapping, or when the alias budget cut decoding short.
func (c *Config) decode(data []byte, lookup func(string) (string, bool)) (probs Problems, complete bool) {
	root, probs := parse(data, c.file)
	if len(probs) > 0 {
		return probs, false
	}
	if root == nil || isNull(root) {
		return nil, true
	}
	d := &decoder{file: c.file, lookup: lookup, pos: c.pos, budget: len(data) + 10000}
	d.decode(root, "", reflect.ValueOf(c).Elem())
	return d.probs, d.budget > 0 && root.Kind == yaml.MappingNode
}

// parse parses the single YAML document in data and returns its root node,
// or nil for an empty document or a syntax error.
func parse(data []byte, file string) (*yaml.Node, Problems) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		return nil, Problems{syntaxProblem(err, data, file)}
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return nil, Problems{{File: file, Pos: posOf(&next), Msg: "a config file holds one YAML document; remove the second one (after ---)"}}
	} else if !errors.Is(err, io.EOF) {
		return nil, Problems{syntaxProblem(err, data, file)}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// syntaxProblem turns a yaml.v3 error ("yaml: line 3: did not find ...")
// into a Problem on that line; its column is unknown.
func syntaxProblem(err error, data []byte, file string) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		num, text, _ := strings.Cut(rest, ": ")
		if n, err := strconv.Atoi(num); err == nil {
			line, msg = n, text
		}
	}
	if isParserError(msg) {
		line++ // yaml.v3 counts lines from 0 in parser (not scanner) errors
	}
	// At the end of the input yaml.v3 may name the line after the last.
	lines := bytes.Count(data, []byte("\n"))
	if !bytes.HasSuffix(data, []byte("\n")) {
		lines++
	}
	line = min(line, max(lines, 1))
	return Problem{File: file, Pos: Pos{Line: line}, Msg: "invalid YAML: " + msg}
}

// isParserError reports whether msg is one of the problems yaml.v3's parser
// (parserc.go) reports, as opposed to its scanner.
func isParserError(msg string) bool {
	for _, prefix := range []string{
		"did not find expected node content",
		"did not find expected key",
		"did not find expected '-' indicator",
		"did not find expected ',' or ",
		"did not find expected <",
		"found undefined tag handle",
		"found duplicate %",
		"found incompatible YAML document",
	} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

// unrelated returns the problems in ps whose path is not at or below the
// path of a problem in decoded.
func unrelated(ps, decoded Problems) Problems {
	bad := map[string]bool{}
	for _, d := range decoded {
		if d.Path != "" {
			bad[d.Path] = true
		}
	}
	var out Problems
	for _, p := range ps {
		if !underAny(p.Path, bad) {
			out = append(out, p)
		}
	}
	return out
}

// underAny reports whether path or one of its ancestors is in set.
func underAny(path string, set map[string]bool) bool {
	for ; path != ""; path = parent(path) {
		if set[path] {
			return true
		}
	}
	return false
}

// parent strips the last ".key" or "[i]" from path; "" has no parent.
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// PosOf returns where the setting at path (as in Problem.Path) was written,
// or, if it was left out, where its closest enclosing setting was. It is the
// zero Pos for a Config not loaded from a file or a path outside the file.
func (c *Config) PosOf(path string) Pos {
	for ; ; path = parent(path) {
		if pos, ok := c.pos[path]; ok {
			return pos
		}
		if path == "" {
			return Pos{}
		}
	}
}
