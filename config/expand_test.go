package config

import (
	"testing"
)

func TestExpand(t *testing.T) {
	lookup := env("HOST", "example.com", "EMPTY", "", "PORT", "8080")
	tests := []struct {
		in, want, err string
	}{
		{in: "plain", want: "plain"},
		{in: "${HOST}", want: "example.com"},
		{in: "http://${HOST}:${PORT}/", want: "http://example.com:8080/"},
		{in: "${EMPTY}", want: ""},
		{in: "${EMPTY:-fallback}", want: "fallback"},
		{in: "${UNSET:-fall back}", want: "fall back"},
		{in: "${UNSET:-}", want: ""},
		{in: "${HOST:-other}", want: "example.com"},
		{in: "${UNSET:-a:-b}", want: "a:-b"},
		{in: "cost $$5", want: "cost $5"},
		{in: "$${HOST}", want: "${HOST}"},
		{in: "a$", want: "a$"},
		{in: "$5 and $-", want: "$5 and $-"},
		{in: "$2y$10$abcDEFghiJKLmnoPQRstuv0123456789abcdefghijklmnopqrs", want: "$2y$10$abcDEFghiJKLmnoPQRstuv0123456789abcdefghijklmnopqrs"}, // a bcrypt hash
		{in: "$argon2id$v=19$m=8192,t=1,p=1$c2FsdA$aGFzaA", want: "$argon2id$v=19$m=8192,t=1,p=1$c2FsdA$aGFzaA"},
		{in: "$$2y$$10$$x", want: "$2y$10$x"},      // escaped the usual way, also fine
		{in: "$2y${HOST}", want: "$2yexample.com"}, // braces: not a hash, the reference expands
		{in: "${UNSET}", err: "environment variable UNSET is not set; set it, or give a default with ${UNSET:-value}"},
		{in: "$HOST/x", err: "$HOST is not expanded; write ${HOST}, or $$ for a literal $"},
		{in: "${HOST", err: `unterminated "${" in "${HOST"; close it with "}", or write $$ for a literal $`},
		{in: "${1X}", err: `invalid variable name "1X" in ${1X}; names are letters, digits and _`},
		{in: "${}", err: `invalid variable name "" in ${}; names are letters, digits and _`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := expand(tt.in, lookup)
			switch {
			case tt.err != "" && (err == nil || err.Error() != tt.err):
				t.Fatalf("expand(%q) error = %v, want %q", tt.in, err, tt.err)
			case tt.err == "" && err != nil:
				t.Fatalf("expand(%q) error = %v", tt.in, err)
			case got != tt.want:
				t.Fatalf("expand(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestExpandInLoad checks expansion in values of every type, before type
// conversion, and never in keys.
func TestExpandInLoad(t *testing.T) {
	src := `listeners:
  - address: ${ADDR}
    idle_timeout: ${IDLE:-7s}
upstreams:
  api:
    targets:
      - url: http://${BACKEND}
        weight: ${W}
    retry: {budget: "${BUDGET}"}
log:
  access: ${ACCESS}
  output: $$HOME/log
`
	c := mustLoad(t, src, env("ADDR", ":9000", "BACKEND", "10.1.1.1:81", "W", "5", "BUDGET", "0.5", "ACCESS", "false"))
	l, tg := c.Listeners[0], c.Upstreams["api"].Targets[0]
	if l.Address != ":9000" || l.IdleTimeout.String() != "7s" || l.Name != ":9000" {
		t.Errorf("listener = %+v", l)
	}
	if tg.URL != "http://10.1.1.1:81" || tg.Weight != 5 || c.Upstreams["api"].Retry.Budget != 0.5 {
		t.Errorf("upstream = %+v", c.Upstreams["api"])
	}
	if c.Log.Access || c.Log.Output != "$HOME/log" {
		t.Errorf("log = %+v", c.Log)
	}
}

func TestExpandProblems(t *testing.T) {
	src := L + `upstreams:
  api:
    targets: [http://a:1]
    max_conns: ${CONNS}
    dial_timeout: ${DIAL}
log:
  ${LEVEL_KEY}: debug
  output: $LOGFILE
`
	want := []string{
		`gh.yaml:5:16: upstreams.api.max_conns: expected an integer, got "lots"`,
		`gh.yaml:6:19: upstreams.api.dial_timeout: environment variable DIAL is not set; set it, or give a default with ${DIAL:-value}`,
		`gh.yaml:8:3: log.${LEVEL_KEY}: unknown key "${LEVEL_KEY}"; allowed keys: format, level, output, access`,
		`gh.yaml:9:11: log.output: $LOGFILE is not expanded; write ${LOGFILE}, or $$ for a literal $`,
	}
	sameLines(t, problems(t, src, env("CONNS", "lots", "LEVEL_KEY", "level")), want)
}
