package config

import (
	"slices"
	"strings"
)

// Problems is every problem found in a config. Load returns it as its error
// (always non-empty); Validate returns it directly (empty means valid).
type Problems []Problem

// Error lists the problems one per line, ordered by line and column;
// problems without a position come first.
func (ps Problems) Error() string {
	sorted := slices.Clone(ps)
	sorted.sort()
	lines := make([]string, len(sorted))
	for i, p := range sorted {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// sort orders ps by position, keeping the order of problems at the same
// position.
func (ps Problems) sort() {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line - b.Pos.Line
		}
		return a.Pos.Col - b.Pos.Col
	})
}
