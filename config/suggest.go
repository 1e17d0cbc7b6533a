package config

import "strings"

// suggest returns the candidate closest to word by edit distance, or "" if
// none is close enough to be a likely typo. Case and "-" versus "_" are
// ignored, so "Max-Fails" suggests "max_fails".
func suggest(word string, candidates []string) string {
	w := normalizeKey(word)
	best, bestDist := "", -1
	for _, c := range candidates {
		d := editDistance(w, normalizeKey(c))
		if d <= maxTypos(c) && (bestDist < 0 || d < bestDist) {
			best, bestDist = c, d
		}
	}
	return best
}

// maxTypos is how many edits still count as a typo of name: one for short
// names, up to three for long ones.
func maxTypos(name string) int {
	return min(3, max(1, len(name)/3))
}

func normalizeKey(s string) string {
	return strings.ReplaceAll(strings.ToLower(s), "-", "_")
}

// editDistance counts the single-byte insertions, deletions, substitutions
// and swaps of adjacent bytes that turn a into b (optimal string alignment).
func editDistance(a, b string) int {
	// rows[i%3][j] is the distance between a[:i] and b[:j].
	var rows [3][]int
	for i := range rows {
		rows[i] = make([]int, len(b)+1)
	}
	for j := range rows[0] {
		rows[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur, prev, prev2 := rows[i%3], rows[(i-1)%3], rows[(i+1)%3]
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
	}
	return rows[len(a)%3][len(b)]
}
