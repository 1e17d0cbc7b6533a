package auth

import (
	"regexp"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/reqtable"
)

// citing matches a test case name that cites a section of one of the
// documents requirements.md covers.
var citing = regexp.MustCompile(`^(7519|7515|7517|7518|8037|8725|6750|7617|9110) `)

// TestRequirementsTable keeps requirements.md and the tests in step: every
// test case the table names exists, and every test case whose name cites
// a section is in the table.
func TestRequirementsTable(t *testing.T) { reqtable.Check(t, "requirements.md", citing, 100) }
