// Package reqtable keeps a requirements table (a requirements.md that
// lists, for each requirement of an RFC, the test cases that check it)
// and the tests in step. It imports nothing of Gatehouse's, so any
// package's own tests can use it.
package reqtable

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// Check fails t unless every test case the table in md names (a
// backquoted name matching citing) is a string literal in the
// directory's *_test.go files, and every such literal is in the table.
// The table must name at least min cases, so that an emptied file does
// not pass.
func Check(t *testing.T, md string, citing *regexp.Regexp, min int) {
	t.Helper()
	text, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(string(text), -1) {
		if citing.MatchString(m[1]) {
			listed[m[1]] = true
		}
	}
	if len(listed) < min {
		t.Fatalf("%s names only %d test cases", md, len(listed))
	}
	files, err := filepath.Glob(filepath.Join(filepath.Dir(md), "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	defined := map[string]bool{}
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && citing.MatchString(s) {
					defined[s] = true
				}
			}
			return true
		})
	}
	for name := range listed {
		if !defined[name] {
			t.Errorf("%s names a test case that does not exist: %q", md, name)
		}
	}
	for name := range defined {
		if !listed[name] {
			t.Errorf("test case %q is missing from %s", name, md)
		}
	}
}
