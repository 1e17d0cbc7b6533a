package config

import (
	"strings"
	"testing"
)

func TestWarnings(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       string // "" for no warning
	}{
		{"default route shadowed by /", `
listeners: [{address: ":8080"}]
routes:
  - {match: {path: /}, respond: {body: hi}}
default_route: {respond: {status: 404}}
`, "t.yaml:5:1: default_route: never used: routes[0]"},
		{"default route behind a host route", `
listeners: [{address: ":8080"}]
routes:
  - {match: {host: [a.example], path: /}, respond: {body: hi}}
default_route: {respond: {status: 404}}
`, ""},
		{"no default route", `
listeners: [{address: ":8080"}]
routes:
  - {match: {path: /}, respond: {body: hi}}
`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load([]byte(tc.yaml), "t.yaml", func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatal(err)
			}
			got := c.Warnings().Error()
			if tc.want == "" && got != "" || tc.want != "" && !strings.HasPrefix(got, tc.want) {
				t.Errorf("warnings %q, want %q", got, tc.want)
			}
		})
	}
}
