package config

import (
	"errors"
	"testing"
)

// testFile names the source in every expected problem.
const testFile = "gh.yaml"

// L is a minimal valid first line, so cases can focus on what follows.
const L = "listeners: [{address: \":8080\"}]\n"

// env returns a lookup over the given name, value pairs.
func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

// problems loads src, which must fail, and returns its problems formatted.
func problems(t *testing.T, src string, lookup func(string) (string, bool)) []string {
	t.Helper()
	if lookup == nil {
		lookup = env()
	}
	c, err := Load([]byte(src), testFile, lookup)
	if err == nil {
		t.Fatalf("Load succeeded, want problems")
	}
	if c != nil {
		t.Errorf("Load returned a Config along with an error")
	}
	var ps Problems
	if !errors.As(err, &ps) || len(ps) == 0 {
		t.Fatalf("error is %T %v, want non-empty Problems", err, err)
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Error()
	}
	return out
}

// mustLoad loads src, which must be valid.
func mustLoad(t *testing.T, src string, lookup func(string) (string, bool)) *Config {
	t.Helper()
	if lookup == nil {
		lookup = env()
	}
	c, err := Load([]byte(src), testFile, lookup)
	if err != nil {
		t.Fatalf("Load:\n%v", err)
	}
	return c
}

// sameLines fails the test unless got and want are equal, showing both.
func sameLines(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\ngot:\n%s\nwant:\n%s", len(got), len(want), lines(got), lines(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("problem %d:\n got: %s\nwant: %s", i, got[i], want[i])
		}
	}
}

func lines(ss []string) string {
	out := ""
	for _, s := range ss {
		out += "  " + s + "\n"
	}
	return out
}
