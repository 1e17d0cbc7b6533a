package config

import (
	"strings"
	"testing"
)

func TestDecodeProblems(t *testing.T) {
	const upstream = "upstreams:\n  api:\n    targets: [http://a:1]\n" // lines 2-4
	tests := []struct {
		name string
		src  string
		want []string
	}{{
		name: "unknown key with suggestion",
		src:  L + "listener: x\n",
		want: []string{`gh.yaml:2:1: listener: unknown key "listener" (did you mean "listeners"?); allowed keys: listeners, trusted_proxies, trusted_hops, forwarding, tls, limits, log, reload, upstreams, caches, rate_limits, authenticators, routes, default_route`},
	}, {
		name: "unknown key without suggestion",
		src:  L + "log: {colour: red}\n",
		want: []string{`gh.yaml:2:7: log.colour: unknown key "colour"; allowed keys: format, level, output, access`},
	}, {
		name: "suggestion ignores case and dashes",
		src:  L + "forwarding:\n  Request-ID-Header: X-Id\n",
		want: []string{`gh.yaml:3:3: forwarding.Request-ID-Header: unknown key "Request-ID-Header" (did you mean "request_id_header"?); allowed keys: forwarded, via, request_id_header, pass_proxy_authorization, underscores_in_headers, client_cert_header`},
	}, {
		name: "string got mapping",
		src:  L + "routes:\n  - match:\n      path: {a: 1}\n    respond: {}\n",
		want: []string{`gh.yaml:4:13: routes[0].match.path: expected a string, got a mapping`},
	}, {
		name: "string got list",
		src:  L + "log: {output: [a]}\n",
		want: []string{`gh.yaml:2:15: log.output: expected a string, got a list`},
	}, {
		name: "list got scalar",
		src:  L + "trusted_proxies: 10.0.0.1\n",
		want: []string{`gh.yaml:2:18: trusted_proxies: expected a list, got "10.0.0.1"`},
	}, {
		name: "struct got scalar",
		src:  L + "routes:\n  - static: /var/www\n",
		want: []string{`gh.yaml:3:13: routes[0].static: expected a mapping, got "/var/www"`},
	}, {
		name: "map got list",
		src:  L + "routes:\n  - respond: {}\n    request_headers: {set: [a]}\n",
		want: []string{`gh.yaml:4:28: routes[0].request_headers.set: expected a mapping, got a list`},
	}, {
		name: "document not a mapping",
		src:  "- a\n",
		want: []string{`gh.yaml:1:1: expected a mapping, got a list`},
	}, {
		name: "integers",
		src:  L + upstream + "    max_conns: many\n    max_idle_conns: 99999999999999999999\n    health: {passive: {max_fails: 1.5}}\n",
		want: []string{
			`gh.yaml:5:16: upstreams.api.max_conns: expected an integer, got "many"`,
			`gh.yaml:6:21: upstreams.api.max_idle_conns: integer 99999999999999999999 is out of range`,
			`gh.yaml:7:35: upstreams.api.health.passive.max_fails: expected an integer, got "1.5"`,
		},
	}, {
		name: "bool",
		src:  L + "log: {access: yes}\nreload: {watch: 1}\n",
		want: []string{
			`gh.yaml:2:15: log.access: expected true or false, got "yes"`,
			`gh.yaml:3:17: reload.watch: expected true or false, got "1"`,
		},
	}, {
		name: "float",
		src:  L + upstream + "    retry: {budget: lots}\n    health: {passive: {fail_status: [nan]}}\n",
		want: []string{
			`gh.yaml:5:21: upstreams.api.retry.budget: expected a number, got "lots"`,
			`gh.yaml:6:38: upstreams.api.health.passive.fail_status[0]: expected an integer, got "nan"`,
		},
	}, {
		name: "durations",
		src:  L + "limits: {drain_timeout: 30}\nlisteners: [{address: ':1', idle_timeout: 5 sec}]\n",
		want: []string{
			`gh.yaml:2:25: limits.drain_timeout: duration 30 has no unit; add one, e.g. 30s or 30ms`,
			`gh.yaml:3:1: listeners: duplicate key "listeners"; it is already set at line 1`,
		},
	}, {
		name: "duration syntax",
		src:  "listeners: [{address: ':1', idle_timeout: 5 sec, read_timeout: 1.5}]\n",
		want: []string{
			`gh.yaml:1:43: listeners[0].idle_timeout: expected a duration such as 5s, 250ms or 1h30m, got "5 sec"`,
			`gh.yaml:1:64: listeners[0].read_timeout: duration 1.5 has no unit; add one, e.g. 1.5s or 1.5ms`,
		},
	}, {
		name: "sizes",
		src: "listeners:\n" +
			"  - {address: ':1', max_header_bytes: 10 potatoes}\n" +
			"  - {address: ':2', max_header_bytes: 1.5MiB}\n" +
			"  - {address: ':3', max_header_bytes: -1}\n" +
			"  - {address: ':4', max_header_bytes: 99999999TiB}\n" +
			"  - {address: ':5', max_header_bytes: {}}\n",
		want: []string{
			`gh.yaml:2:39: listeners[0].max_header_bytes: unknown size unit "potatoes"; use B, KB, MB, GB, KiB, MiB or GiB`,
			`gh.yaml:3:39: listeners[1].max_header_bytes: expected a size such as 512, 64KiB or 10MiB, got "1.5MiB"`,
			`gh.yaml:4:39: listeners[2].max_header_bytes: size -1 must not be negative`,
			`gh.yaml:5:39: listeners[3].max_header_bytes: size 99999999TiB is too large`,
			`gh.yaml:6:39: listeners[4].max_header_bytes: expected a size such as 512, 64KiB or 10MiB, got a mapping`,
		},
	}, {
		name: "strings",
		src:  L + "routes:\n  - respond: {}\n    match: {host: {a: b}, methods: [[GET]]}\n",
		want: []string{
			`gh.yaml:4:19: routes[0].match.host: expected a string or a list of strings, got a mapping`,
			`gh.yaml:4:37: routes[0].match.methods[0]: expected a string, got a list`,
		},
	}, {
		name: "target",
		src:  L + "upstreams:\n  api:\n    targets: [[http://a:1], {url: http://b:1, wieght: 2}]\n",
		want: []string{
			`gh.yaml:4:15: upstreams.api.targets[0]: expected a URL or a mapping with url and weight, got a list`,
			`gh.yaml:4:47: upstreams.api.targets[1].wieght: unknown key "wieght" (did you mean "weight"?); allowed keys: url, weight`,
		},
	}, {
		name: "duplicate keys",
		src:  "listeners:\n  - address: ':1'\n    address: ':2'\nlog:\n  level: info\n  level: debug\n",
		want: []string{
			`gh.yaml:3:5: listeners[0].address: duplicate key "address"; it is already set at line 2`,
			`gh.yaml:6:3: log.level: duplicate key "level"; it is already set at line 5`,
		},
	}, {
		name: "duplicate map keys",
		src:  L + upstream + "  api:\n    targets: [http://b:1]\n",
		want: []string{`gh.yaml:5:3: upstreams.api: duplicate key "api"; it is already set at line 3`},
	}, {
		name: "key not a string",
		src:  L + "log:\n  ? [a]\n  : b\n",
		want: []string{`gh.yaml:3:5: log: a key must be a plain string, got a list`},
	}, {
		name: "merge of a scalar",
		src:  L + "log: {<<: 5}\n",
		want: []string{`gh.yaml:2:11: log: << takes a mapping or a list of mappings, got "5"`},
	}, {
		name: "syntax error",
		src:  L + "log: {level: info\nroutes: []\n",
		want: []string{`gh.yaml:2: invalid YAML: did not find expected ',' or '}'`},
	}, {
		name: "scanner error",
		src:  L + "log: a: b\n",
		want: []string{`gh.yaml:2: invalid YAML: mapping values are not allowed in this context`},
	}, {
		name: "error at end of input",
		src:  "a: [",
		want: []string{`gh.yaml:1: invalid YAML: did not find expected node content`},
	}, {
		name: "unknown anchor",
		src:  L + "log: *x\n",
		want: []string{`gh.yaml: invalid YAML: unknown anchor 'x' referenced`},
	}, {
		name: "two documents",
		src:  L + "---\n" + L,
		want: []string{`gh.yaml:2:1: a config file holds one YAML document; remove the second one (after ---)`},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sameLines(t, problems(t, tt.src, nil), tt.want)
		})
	}
}

// TestAllProblemsReported checks that decoding goes on after problems and
// that decoding and validation problems come together, ordered by line.
func TestAllProblemsReported(t *testing.T) {
	src := `listeners:
  - address: ":8080"
    read_header_timeout: 5
    adress: x
  - address: ":8080"
upstreams:
  api:
    targets: [http://10.0.0.1, {url: "https://x:1", weight: 0}]
    balance: rr
routes:
  - match: {pth: /x, methods: [get]}
    upstream: nope
  - match: {path: 7}
    respond: {status: 99}
log: {access: false, level: loud}
`
	want := []string{
		`gh.yaml:3:26: listeners[0].read_header_timeout: duration 5 has no unit; add one, e.g. 5s or 5ms`,
		`gh.yaml:4:5: listeners[0].adress: unknown key "adress" (did you mean "address"?); allowed keys: name, address, read_header_timeout, read_timeout, write_timeout, client_body_timeout, send_timeout, idle_timeout, max_header_bytes, max_header_count, engine, ip_filter, tls, h2c, http3, redirect_https`,
		`gh.yaml:5:14: listeners[1].address: address ":8080" is already used by listeners[0]`,
		`gh.yaml:8:38: upstreams.api.targets[1].url: scheme https differs from http in upstreams.api.targets[0]; all targets of an upstream use one scheme (make a second upstream)`,
		`gh.yaml:8:61: upstreams.api.targets[1].weight: must be from 1 to 1000, got 0`,
		`gh.yaml:9:14: upstreams.api.balance: unknown balance "rr"; use round_robin, least_conn, p2c, hash or sticky`,
		`gh.yaml:11:13: routes[0].match.pth: unknown key "pth" (did you mean "path"?); allowed keys: host, path, methods, headers, tls`,
		`gh.yaml:11:32: routes[0].match.methods[0]: method "get" must be upper-case: GET`,
		`gh.yaml:12:15: routes[0].upstream: unknown upstream "nope"; defined: api`,
		`gh.yaml:13:19: routes[1].match.path: path "7" must start with /`,
		`gh.yaml:14:23: routes[1].respond.status: 99 is not an HTTP status (100-599)`,
		`gh.yaml:15:29: log.level: unknown level "loud"; use debug, info, warn or error`,
	}
	sameLines(t, problems(t, src, nil), want)
}

// TestDecodeSkipsCascades checks that a value that failed to decode is not
// also reported by validation.
func TestDecodeSkipsCascades(t *testing.T) {
	src := L + "upstreams:\n  api: [http://a:1]\n"
	want := []string{`gh.yaml:3:8: upstreams.api: expected a mapping, got a list`}
	sameLines(t, problems(t, src, nil), want)
}

func TestMergeKeys(t *testing.T) {
	src := L + `upstreams:
  a: &base
    targets: [http://a:1]
    dial_timeout: 1s
    retry: {attempts: 2}
  b:
    <<: *base
    dial_timeout: 2s
  c:
    <<: [{max_conns: 7}, *base]
    targets: [http://c:1]
`
	c := mustLoad(t, src, nil)
	b, cc := c.Upstreams["b"], c.Upstreams["c"]
	if b.DialTimeout.D().String() != "2s" || b.Retry.Attempts != 2 || b.Targets[0].URL != "http://a:1" {
		t.Errorf("b = %+v, want merged from a with dial_timeout 2s", b)
	}
	if cc.MaxConns != 7 || cc.Targets[0].URL != "http://c:1" || cc.DialTimeout.D().String() != "1s" {
		t.Errorf("c = %+v, want merged from both, own targets", cc)
	}
}

// TestAliasBomb checks that exponential alias expansion stops with one
// problem instead of exhausting time and memory.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString(L + "x: &m [" + strings.Repeat("GET,", 999) + "GET]\n")
	b.WriteString("routes: [" + strings.Repeat("{respond: {}, match: {methods: *m}},", 2000) + "{}]\n")
	got := problems(t, b.String(), nil)
	if len(got) != 2 || !strings.Contains(got[1], "the document expands to too many values through aliases and merges; use fewer of them") {
		t.Fatalf("got %d problems:\n%s", len(got), lines(got[:min(len(got), 5)]))
	}
}

func TestMergeCycle(t *testing.T) {
	src := L + "log: &a {<<: *a}\n"
	got := problems(t, src, nil)
	// Either yaml.v3 rejects the recursive anchor or the decoder stops it;
	// what matters is one bounded, positioned problem.
	if len(got) != 1 || !strings.HasPrefix(got[0], "gh.yaml:2") {
		t.Fatalf("got:\n%s", lines(got))
	}
}
