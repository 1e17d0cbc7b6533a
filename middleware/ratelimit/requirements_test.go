package ratelimit

import (
	"regexp"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/reqtable"
)

// citing matches a test case name that cites a section of one of the
// documents requirements.md covers.
var citing = regexp.MustCompile(`^(ratelimit-headers|6585|9110) `)

// TestRequirementsTable keeps requirements.md and the tests in step: every
// test case the table names exists, and every test case whose name cites
// a section is in the table.
func TestRequirementsTable(t *testing.T) { reqtable.Check(t, "requirements.md", citing, 25) }
