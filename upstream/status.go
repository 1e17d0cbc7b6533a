package upstream

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
