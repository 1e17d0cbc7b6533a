package config

import (
	"strings"
	"testing"
)

// TestEngineDefault: a listener's engine is gatehouse unless it says, or
// GATEHOUSE_ENGINE sets another default; what a listener writes wins; a
// wrong value, written or from the variable, is a problem that says where
// it came from.
func TestEngineDefault(t *testing.T) {
	const yaml = "listeners:\n  - {address: \":1\"}\n  - {address: \":2\", engine: %s}\nroutes: [{respond: {body: x}}]\n"
	env := func(v string) func(string) (string, bool) {
		return func(k string) (string, bool) {
			if k == EngineEnv && v != "" {
				return v, true
			}
			return "", false
		}
	}
	for _, tc := range []struct {
		env, written, first, second, problem string
	}{
		{"", "stdlib", "gatehouse", "stdlib", ""},
		{"stdlib", "gatehouse", "stdlib", "gatehouse", ""},
		{"", "nginx", "", "", `gh.yaml:3:29: listeners[1].engine: "nginx" is not an engine; want gatehouse or stdlib`},
		{"fast", "stdlib", "", "", `GATEHOUSE_ENGINE="fast" is not an engine`},
	} {
		c, err := Load([]byte(strings.Replace(yaml, "%s", tc.written, 1)), "gh.yaml", env(tc.env))
		if tc.problem != "" {
			if err == nil || !strings.Contains(err.Error(), tc.problem) {
				t.Errorf("env %q, written %q: %v, want a problem %q", tc.env, tc.written, err, tc.problem)
			}
			continue
		}
		if err != nil {
			t.Fatalf("env %q: %v", tc.env, err)
		}
		if c.Listeners[0].Engine != tc.first || c.Listeners[1].Engine != tc.second {
			t.Errorf("env %q, written %q: engines %q and %q, want %q and %q", tc.env, tc.written,
				c.Listeners[0].Engine, c.Listeners[1].Engine, tc.first, tc.second)
		}
	}
}
