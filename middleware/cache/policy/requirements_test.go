package policy

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

// citing matches a test case name that cites a section of one of the
// documents requirements.md covers.
var citing = regexp.MustCompile(`^(9111|9110|5861|8246|9211|8941|6585|edge-arch) `)

// TestRequirementsTable keeps requirements.md and the tests in step: every
// test case the table names exists, and every test case whose name cites
// a section is in the table.
func TestRequirementsTable(t *testing.T) {
	md, err := os.ReadFile("requirements.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(string(md), -1) {
		if citing.MatchString(m[1]) {
			listed[m[1]] = true
		}
	}
	if len(listed) < 100 {
		t.Fatalf("requirements.md names only %d test cases", len(listed))
	}

	files, err := filepath.Glob("*_test.go")
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
			t.Errorf("requirements.md names a test case that does not exist: %q", name)
		}
	}
	for name := range defined {
		if !listed[name] {
			t.Errorf("test case %q is missing from requirements.md", name)
		}
	}
}
