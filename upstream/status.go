package upstream

import (
	"fmt"
	"strconv"
	"strings"
)

// statusSet is a set of HTTP status codes 100..599 as a bitmap, so a
// lookup is two instructions and never allocates. The zero value is empty.
type statusSet [10]uint64

// add puts code into the set; codes outside 100..599 are ignored.
func (s *statusSet) add(code int) {
	if code >= 100 && code <= 599 {
		s[code>>6] |= 1 << (code & 63)
	}
}

// has reports whether code is in the set.
func (s *statusSet) has(code int) bool {
	if code < 0 || code >= len(s)*64 {
		return false
	}
	return s[code>>6]&(1<<(code&63)) != 0
}

// parseStatusSet parses an expect_status list of codes and inclusive
// ranges separated by commas: "200-399", "200,204", "200, 300-302".
// (A local copy of config.ParseStatusSet, to keep the packages decoupled.)
func parseStatusSet(spec string) (statusSet, error) {
	var s statusSet
	if strings.TrimSpace(spec) == "" {
		return s, fmt.Errorf("empty status list")
	}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		lo, hi, isRange := strings.Cut(item, "-")
		from, err := parseStatus(lo)
		if err != nil {
			return s, fmt.Errorf("status list %q: %w", spec, err)
		}
		to := from
		if isRange {
			if to, err = parseStatus(hi); err != nil {
				return s, fmt.Errorf("status list %q: %w", spec, err)
			}
			if to < from {
				return s, fmt.Errorf("status list %q: range %q is backwards", spec, item)
			}
		}
		for c := from; c <= to; c++ {
			s.add(c)
		}
	}
	return s, nil
}

// parseStatus parses one status code, 100..599.
func parseStatus(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 100 || n > 599 {
		return 0, fmt.Errorf("%q is not a status code 100-599", s)
	}
	return n, nil
}
