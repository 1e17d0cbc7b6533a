package config

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseStatusSet parses a set of HTTP statuses written as comma-separated
// codes and inclusive ranges, e.g. "200-399", "200,204" or "200-299,304";
// spaces around items are ignored. Every code must be 100..599 and every
// range ascending. The returned func reports membership, allocates nothing
// and is safe for concurrent use.
func ParseStatusSet(s string) (func(int) bool, error) {
	type span struct{ lo, hi int }
	var spans []span
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		loText, hiText, isRange := strings.Cut(item, "-")
		lo, err := parseStatus(loText, s)
		if err != nil {
			return nil, err
		}
		hi := lo
		if isRange {
			if hi, err = parseStatus(hiText, s); err != nil {
				return nil, err
			}
			if hi < lo {
				return nil, fmt.Errorf("status range %q in %q runs backwards", item, s)
			}
		}
		spans = append(spans, span{lo, hi})
	}
	return func(code int) bool {
		for _, sp := range spans {
			if sp.lo <= code && code <= sp.hi {
				return true
			}
		}
		return false
	}, nil
}

func parseStatus(text, set string) (int, error) {
	text = strings.TrimSpace(text)
	n, err := strconv.Atoi(text)
	if err != nil || n < 100 || n > 599 || text[0] == '+' {
		return 0, fmt.Errorf("%q is not a status set such as 200-399 or 200,204: %q is not a status from 100 to 599", set, text)
	}
	return n, nil
}
