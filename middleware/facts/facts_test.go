package facts

import "testing"

func TestRequestID(t *testing.T) {
	if got := RequestID([]string{"abc-123"}); got != "abc-123" {
		t.Errorf("well-formed incoming ID not kept: %q", got)
	}
	for _, bad := range [][]string{nil, {""}, {"has space"}, {"a\x00b"}, {"one", "two"}, {string(make([]byte, 201))}} {
		got := RequestID(bad)
		if len(got) != 32 || got == RequestID(bad) {
			t.Errorf("RequestID(%q) = %q, want a fresh 32-hex-digit ID", bad, got)
		}
	}
}
