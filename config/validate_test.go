package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// U defines upstream "api" on lines 2-4; upstream keys added after it go on
// line 5 on, indented by 4.
const U = L + "upstreams:\n  api:\n    targets: [http://a:1]\n"

// R adds routes to U: "routes:" is line 5, the first route line 6.
const R = U + "routes:\n"

// validateCase is a config and every problem Load must report for it.
type validateCase struct {
	name string
	src  string
	want []string
}

func runValidateCases(t *testing.T, tests []validateCase, lookup func(string) (string, bool)) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sameLines(t, problems(t, tt.src, lookup), tt.want)
		})
	}
}

func TestValidateListeners(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"no listeners", "listeners: []\n", []string{
			`gh.yaml:1:1: listeners: at least one listener is required, e.g. listeners: [{address: ":8080"}]`,
		}},
		{"empty file", "", []string{
			`gh.yaml: listeners: at least one listener is required, e.g. listeners: [{address: ":8080"}]`,
		}},
		{"listener address", "listeners:\n  - name: a\n  - address: '8080'\n  - address: :70000\n  - address: :-1\n  - address: exa_mple.-com:80\n  - address: '[::1]:80'\n", []string{
			`gh.yaml:2:5: listeners[0].address: is required, e.g. ":8080" or "127.0.0.1:8080"`,
			`gh.yaml:3:14: listeners[1].address: "8080" is not host:port, e.g. 127.0.0.1:8080 or :8080`,
			`gh.yaml:4:14: listeners[2].address: port "70000" in ":70000" must be a number from 0 to 65535`,
			`gh.yaml:5:14: listeners[3].address: port "-1" in ":-1" must be a number from 0 to 65535`,
			`gh.yaml:6:14: listeners[4].address: "exa_mple.-com" is not a valid host name or IP address`,
		}},
		{"listener duplicates", "listeners:\n  - {name: a, address: ':1'}\n  - {name: a, address: ':2'}\n  - {name: b, address: ':1'}\n", []string{
			`gh.yaml:3:12: listeners[1].name: name "a" is already used by listeners[0]`,
			`gh.yaml:4:24: listeners[2].address: address ":1" is already used by listeners[0]`,
		}},
		{"listener limits", "listeners:\n  - address: :1\n    read_timeout: -1s\n    write_timeout: -2s\n    read_header_timeout: -3s\n    idle_timeout: -4s\n    max_header_bytes: 0\n", []string{
			`gh.yaml:3:19: listeners[0].read_timeout: must not be negative, got -1s`,
			`gh.yaml:4:20: listeners[0].write_timeout: must not be negative, got -2s`,
			`gh.yaml:5:26: listeners[0].read_header_timeout: must not be negative, got -3s`,
			`gh.yaml:6:19: listeners[0].idle_timeout: must not be negative, got -4s`,
			`gh.yaml:7:23: listeners[0].max_header_bytes: must be greater than 0, e.g. 64KiB`,
		}},
	}, nil)
}

func TestValidateGlobals(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"trusted proxies", L + "trusted_proxies: [10.0.0.0/8, 192.168.1.1, '::1', 10.0.0.0/33, example.com, 'fe80::1%eth0']\n", []string{
			`gh.yaml:2:51: trusted_proxies[3]: "10.0.0.0/33" is not an IP address or CIDR, e.g. 10.0.0.0/8 or 192.168.1.10`,
			`gh.yaml:2:64: trusted_proxies[4]: "example.com" is not an IP address or CIDR, e.g. 10.0.0.0/8 or 192.168.1.10`,
			`gh.yaml:2:77: trusted_proxies[5]: "fe80::1%eth0" is not an IP address or CIDR, e.g. 10.0.0.0/8 or 192.168.1.10`,
		}},
		{"log", L + "log:\n  format: xml\n  level: trace\n  output: ''\n", []string{
			`gh.yaml:3:11: log.format: unknown format "xml"; use json or text`,
			`gh.yaml:4:10: log.level: unknown level "trace"; use debug, info, warn or error`,
			`gh.yaml:5:11: log.output: must be stdout, stderr or a file path`,
		}},
		{"forwarding and limits", L + "forwarding: {request_id_header: X Request}\nlimits: {drain_timeout: -1s}\n", []string{
			`gh.yaml:2:33: forwarding.request_id_header: "X Request" is not a valid header name, e.g. X-Request-ID`,
			`gh.yaml:3:25: limits.drain_timeout: must not be negative, got -1s`,
		}},
	}, nil)
}

func TestValidateUpstreams(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"upstream name and targets", L + "upstreams:\n  a b:\n    targets: [http://a:1]\n  empty: {}\n  nulled:\n", []string{
			`gh.yaml:3:3: upstreams.a b: upstream name "a b" may only contain letters, digits, _, . and -`,
			`gh.yaml:5:3: upstreams.empty.targets: at least one target is required, e.g. targets: [http://10.0.0.5:8080]`,
			`gh.yaml:6:3: upstreams.nulled: is empty; give it targets, e.g. targets: [http://10.0.0.5:8080]`,
		}},
		{"target urls", L + "upstreams:\n  api:\n    targets:\n" +
			"      - https://a:443\n" +
			"      - ftp://a:21\n" +
			"      - a:80\n" +
			"      - 10.0.0.1:80\n" +
			"      - http://user@a:1\n" +
			"      - http:///x\n" +
			"      - http://a:1/api\n" +
			"      - http://a:1?q=1\n" +
			"      - http://a:1#f\n" +
			"      - http://a:99999\n" +
			"      - http://a b:1\n" +
			"      - {url: http://ok:1, weight: 1001}\n",
			[]string{
				`gh.yaml:6:9: upstreams.api.targets[1].url: "ftp://a:21": scheme "ftp" is not supported; use http://, https:// or h2c:// (cleartext HTTP/2, e.g. for gRPC)`,
				`gh.yaml:7:9: upstreams.api.targets[2].url: "a:80" is not a URL like http://10.0.0.5:8080`,
				`gh.yaml:8:9: upstreams.api.targets[3].url: "10.0.0.1:80" is not a URL like http://10.0.0.5:8080`,
				`gh.yaml:9:9: upstreams.api.targets[4].url: "http://user@a:1": must not contain user info (user@)`,
				`gh.yaml:10:9: upstreams.api.targets[5].url: "http:///x": has no host`,
				`gh.yaml:11:9: upstreams.api.targets[6].url: "http://a:1/api": must not have a path; to add a path prefix use the route's rewrite.add_prefix`,
				`gh.yaml:12:9: upstreams.api.targets[7].url: "http://a:1?q=1": must not have a query`,
				`gh.yaml:13:9: upstreams.api.targets[8].url: "http://a:1#f": must not have a fragment`,
				`gh.yaml:14:9: upstreams.api.targets[9].url: "http://a:99999": port "99999" in "a:99999" must be a number from 1 to 65535`,
				`gh.yaml:15:9: upstreams.api.targets[10].url: "http://a b:1" is not a URL like http://10.0.0.5:8080`,
				`gh.yaml:16:15: upstreams.api.targets[11].url: scheme http differs from https in upstreams.api.targets[0]; all targets of an upstream use one scheme (make a second upstream)`,
				`gh.yaml:16:36: upstreams.api.targets[11].weight: must be from 1 to 1000, got 1001`,
			}},
		{"duplicate targets", L + "upstreams:\n  api:\n    targets: [http://a, 'http://A:80/', {url: http://b:1}, http://b:1]\n", []string{
			`gh.yaml:4:25: upstreams.api.targets[1].url: target "http://a:80" is already used by upstreams.api.targets[0]`,
			`gh.yaml:4:60: upstreams.api.targets[3].url: target "http://b:1" is already used by upstreams.api.targets[2]`,
		}},
		{"balance", U + "    balance: random\n    hash_key: ip\n    sticky: {cookie: a b, max_age: -1s}\n", []string{
			`gh.yaml:5:14: upstreams.api.balance: unknown balance "random"; use round_robin, least_conn, p2c, hash or sticky`,
			`gh.yaml:6:15: upstreams.api.hash_key: unknown hash_key "ip"; use client_ip, header:<Name> or cookie:<Name>`,
			`gh.yaml:7:22: upstreams.api.sticky.cookie: "a b" is not a valid cookie name`,
			`gh.yaml:7:36: upstreams.api.sticky.max_age: must not be negative, got -1s`,
		}},
		{"hash keys", L + "upstreams:\n" +
			"  a: {targets: [http://a:1], balance: hash, hash_key: 'header:X-User'}\n" +
			"  b: {targets: [http://a:1], balance: hash, hash_key: 'cookie:sid'}\n" +
			"  c: {targets: [http://a:1], balance: hash, hash_key: 'header:'}\n" +
			"  d: {targets: [http://a:1], balance: hash, hash_key: 'cookie:a;b'}\n", []string{
			`gh.yaml:5:55: upstreams.c.hash_key: "" is not a valid header name`,
			`gh.yaml:6:55: upstreams.d.hash_key: "a;b" is not a valid cookie name`,
		}},
		{"transport", U + "    dial_timeout: 0s\n    response_header_timeout: -1s\n    idle_conn_timeout: -1s\n    max_idle_conns: -1\n    max_conns: -1\n    upgrade_idle_timeout: -1s\n", []string{
			`gh.yaml:5:19: upstreams.api.dial_timeout: must be greater than 0, got 0s`,
			`gh.yaml:6:30: upstreams.api.response_header_timeout: must be greater than 0, got -1s`,
			`gh.yaml:7:24: upstreams.api.idle_conn_timeout: must not be negative, got -1s`,
			`gh.yaml:8:21: upstreams.api.max_idle_conns: must not be negative, got -1`,
			`gh.yaml:9:16: upstreams.api.max_conns: must not be negative (0 means no limit), got -1`,
			`gh.yaml:10:27: upstreams.api.upgrade_idle_timeout: must not be negative, got -1s`,
		}},
		{"active health", U + "    health:\n      active:\n        path: healthz\n        host: a b\n        interval: 0s\n        timeout: 1s\n        expect_status: 2xx\n        healthy_threshold: 0\n        unhealthy_threshold: -1\n", []string{
			`gh.yaml:7:15: upstreams.api.health.active.path: "healthz" must be a path starting with /, e.g. /healthz`,
			`gh.yaml:8:15: upstreams.api.health.active.host: "a b" is not a valid host name or IP address`,
			`gh.yaml:9:19: upstreams.api.health.active.interval: must be greater than 0, got 0s`,
			`gh.yaml:10:18: upstreams.api.health.active.timeout: must be greater than 0 and at most interval (0s), got 1s`,
			`gh.yaml:11:24: upstreams.api.health.active.expect_status: "2xx" is not a status set such as 200-399 or 200,204: "2xx" is not a status from 100 to 599`,
			`gh.yaml:12:28: upstreams.api.health.active.healthy_threshold: must be at least 1, got 0`,
			`gh.yaml:13:30: upstreams.api.health.active.unhealthy_threshold: must be at least 1, got -1`,
		}},
		{"active timeout", U + "    health: {active: {interval: 1s, timeout: 0s}}\n", []string{
			`gh.yaml:5:46: upstreams.api.health.active.timeout: must be greater than 0 and at most interval (1s), got 0s`,
		}},
		{"passive health", U + "    health: {passive: {max_fails: -1, fail_status: [99, 502, 600]}}\n" +
			"  b:\n    targets: [http://b:1]\n    health: {passive: {cooldown: 0s}}\n", []string{
			`gh.yaml:5:35: upstreams.api.health.passive.max_fails: must not be negative (0 disables passive checks), got -1`,
			`gh.yaml:5:53: upstreams.api.health.passive.fail_status[0]: 99 is not an HTTP status (100-599)`,
			`gh.yaml:5:62: upstreams.api.health.passive.fail_status[2]: 600 is not an HTTP status (100-599)`,
			`gh.yaml:8:34: upstreams.b.health.passive.cooldown: must be greater than 0 when max_fails is set, got 0s`,
		}},
		{"retry", U + "    retry: {attempts: 9, budget: 1.5, min_per_second: -1}\n" +
			"  b: {targets: [http://b:1], retry: {attempts: 0, budget: -0.1}}\n", []string{
			`gh.yaml:5:23: upstreams.api.retry.attempts: must be from 1 to 8 (1 disables retries), got 9`,
			`gh.yaml:5:34: upstreams.api.retry.budget: must be a fraction from 0 to 1, got 1.5`,
			`gh.yaml:5:55: upstreams.api.retry.min_per_second: must not be negative, got -1`,
			`gh.yaml:6:48: upstreams.b.retry.attempts: must be from 1 to 8 (1 disables retries), got 0`,
			`gh.yaml:6:59: upstreams.b.retry.budget: must be a fraction from 0 to 1, got -0.1`,
		}},
	}, nil)
}

func TestValidateRoutes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file.txt")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	runValidateCases(t, []validateCase{
		{"route actions", R + "  - match: {path: /a}\n  - match: {path: /b}\n    upstream: api\n    respond: {}\n    redirect: {to: /}\n", []string{
			`gh.yaml:6:5: routes[0]: has no action; set one of upstream, static, redirect or respond`,
			`gh.yaml:7:5: routes[1]: has upstream and redirect and respond; a route takes exactly one of upstream, static, redirect or respond`,
		}},
		{"route upstream", R + "  - {match: {path: /a}, upstream: apj}\n  - {match: {path: /b}, upstream: 'https://x:1'}\n  - {match: {path: /c}, upstream: 'http://x'}\n", []string{
			`gh.yaml:6:35: routes[0].upstream: unknown upstream "apj"; defined: api`,
		}},
		{"no upstreams defined", L + "routes:\n  - upstream: api\n", []string{
			`gh.yaml:3:15: routes[0].upstream: unknown upstream "api"; no upstreams are defined (or write a URL such as http://10.0.0.5:8080)`,
		}},
		{"match paths", R +
			"  - {upstream: api, match: {path: api}}\n" +
			"  - {upstream: api, match: {path: /a//b}}\n" +
			"  - {upstream: api, match: {path: /a/./b}}\n" +
			"  - {upstream: api, match: {path: /a/..}}\n" +
			"  - {upstream: api, match: {path: /%41}}\n" +
			"  - {upstream: api, match: {path: /%2f}}\n" +
			"  - {upstream: api, match: {path: /%zz}}\n" +
			"  - {upstream: api, match: {path: '/a b'}}\n" +
			"  - {upstream: api, match: {path: /é}}\n" +
			"  - {upstream: api, match: {path: '/x?y'}}\n" +
			"  - {upstream: api, match: {path: /%00}}\n" +
			"  - {upstream: api, match: {path: /ok/%2F/x%20y/}}\n",
			[]string{
				`gh.yaml:6:35: routes[0].match.path: path "api" must start with /`,
				`gh.yaml:7:35: routes[1].match.path: path "/a//b" is not normal: remove empty, . and .. segments`,
				`gh.yaml:8:35: routes[2].match.path: path "/a/./b" is not normal: remove empty, . and .. segments`,
				`gh.yaml:9:35: routes[3].match.path: path "/a/.." is not normal: remove empty, . and .. segments`,
				`gh.yaml:10:35: routes[4].match.path: path "/%41" is not normal: write %41 as "A"`,
				`gh.yaml:11:35: routes[5].match.path: path "/%2f" is not normal: write %2f as %2F`,
				`gh.yaml:12:35: routes[6].match.path: path "/%zz" has an invalid percent-escape; write % as %25`,
				`gh.yaml:13:35: routes[7].match.path: path "/a b": percent-encode ' ' as %20`,
				`gh.yaml:14:35: routes[8].match.path: path "/é": percent-encode non-ASCII characters as UTF-8, e.g. é as %C3%A9`,
				`gh.yaml:15:35: routes[9].match.path: path "/x?y": percent-encode '?' as %3F`,
				`gh.yaml:16:35: routes[10].match.path: path "/%00" must not contain %00`,
			}},
		{"match hosts", R + "  - upstream: api\n    match:\n      host: [Example.COM, '*.example.com', 10.0.0.1, '::1', '[::1]', '*.com', 'a.*.com', '*', 'a.com:80', -a.com, '', '[::1', 1.2.3.999]\n", []string{
			`gh.yaml:8:70: routes[0].match.host[5]: host "*.com": a wildcard needs at least two labels after it, as in *.example.com`,
			`gh.yaml:8:79: routes[0].match.host[6]: host "a.*.com": a wildcard is only allowed as a whole first label, as in *.example.com`,
			`gh.yaml:8:90: routes[0].match.host[7]: host "*": a wildcard is only allowed as a whole first label, as in *.example.com`,
			`gh.yaml:8:95: routes[0].match.host[8]: "a.com:80" is not a host name or IP address; it must not have a port`,
			`gh.yaml:8:107: routes[0].match.host[9]: "-a.com" is not a valid host name or IP address`,
			`gh.yaml:8:115: routes[0].match.host[10]: empty host name`,
			`gh.yaml:8:119: routes[0].match.host[11]: "[::1" is not a valid IPv6 address`,
			`gh.yaml:8:127: routes[0].match.host[12]: "1.2.3.999" is not a valid host name or IP address`,
		}},
		{"match methods and headers", R + "  - upstream: api\n    match:\n      methods: [GET, post, 'GE T']\n      headers:\n        X-Ok: '*'\n        X Bad: v\n        X-Line: \"a\\nb\"\n", []string{
			`gh.yaml:8:22: routes[0].match.methods[1]: method "post" must be upper-case: POST`,
			`gh.yaml:8:28: routes[0].match.methods[2]: "GE T" is not a valid method`,
			`gh.yaml:11:9: routes[0].match.headers.X Bad: "X Bad" is not a valid header name`,
			`gh.yaml:12:9: routes[0].match.headers.X-Line: header value "a\nb" must not contain control characters such as CR, LF or NUL`,
		}},
		{"route names", R + "  - {name: a, upstream: api, match: {path: /a}}\n  - {name: a, upstream: api, match: {path: /b}}\n  - {name: default, upstream: api, match: {path: /c}}\ndefault_route: {upstream: api}\n", []string{
			`gh.yaml:7:12: routes[1].name: name "a" is already used by routes[0]`,
			`gh.yaml:9:1: default_route.name: name "default" is already used by routes[2]`,
		}},
		{"duplicate matches", R +
			"  - {upstream: api, match: {host: [a.com, B.com], path: /api, methods: [GET, POST], headers: {X-A: '1'}}}\n" +
			"  - {upstream: api, match: {host: [b.com, A.COM], path: /api/, methods: [POST, GET], headers: {x-a: '1'}}}\n" +
			"  - {upstream: api, match: {host: [b.com, A.COM], path: /api/, methods: [POST, GET], headers: {x-a: '2'}}}\n" +
			"  - {upstream: api, match: {path: /api}}\n" +
			"  - {upstream: api}\n" +
			"  - {upstream: api, match: {path: /}}\n", []string{
			`gh.yaml:7:21: routes[1].match: matches the same requests as routes[0] (path "/api"); change the host, path, methods or headers of one of them`,
			`gh.yaml:11:21: routes[5].match: matches the same requests as routes[4] (path "/"); change the host, path, methods or headers of one of them`,
		}},
		{"rewrite", R +
			"  - {upstream: api, match: {path: /api/v1}, rewrite: {strip_prefix: /api, add_prefix: /x/}}\n" +
			"  - {upstream: api, match: {path: /api/v2}, rewrite: {strip_prefix: /ap}}\n" +
			"  - {upstream: api, match: {path: /api}, rewrite: {strip_prefix: api, add_prefix: x}}\n" +
			"  - {upstream: api, match: {path: /b}, rewrite: {strip_prefix: /b, replace_prefix: {from: /b, to: /v2}}}\n" +
			"  - {upstream: api, match: {path: /c}, rewrite: {replace_prefix: {from: /v1, to: ''}}}\n" +
			"  - {upstream: api, match: {path: /d/}, rewrite: {replace_prefix: {from: /d/, to: /}}}\n", []string{
			`gh.yaml:7:69: routes[1].rewrite.strip_prefix: "/ap" is not a prefix of match.path "/api/v2" at a / boundary, so it would not apply to every request`,
			`gh.yaml:8:66: routes[2].rewrite.strip_prefix: path "api" must start with /`,
			`gh.yaml:8:83: routes[2].rewrite.add_prefix: path "x" must start with /`,
			`gh.yaml:9:68: routes[3].rewrite.replace_prefix: cannot be combined with strip_prefix or add_prefix; it does both itself`,
			`gh.yaml:10:73: routes[4].rewrite.replace_prefix.from: "/v1" is not a prefix of match.path "/c" at a / boundary, so it would not apply to every request`,
			`gh.yaml:10:82: routes[4].rewrite.replace_prefix.to: path "" must start with /`,
		}},
		{"host header and header ops", R + "  - upstream: api\n    host_header: a b\n" +
			"  - upstream: api\n    match: {path: /b}\n    host_header: 'x:99999'\n" +
			"  - upstream: api\n    match: {path: /c}\n    host_header: 'x.example:8080'\n" +
			"    request_headers: {set: {X A: v}, add: {X-B: \"a\\rb\"}, remove: [X-C, 'X D']}\n" +
			"    response_headers: {set: {X-Ok: v, X-Nul: \"\\0\"}}\n", []string{
			`gh.yaml:7:18: routes[0].host_header: "a b" is not a valid host name or IP address; use "" (keep the client's), "target" or host[:port]`,
			`gh.yaml:10:18: routes[1].host_header: port "99999" in "x:99999" must be a number from 1 to 65535; use "" (keep the client's), "target" or host[:port]`,
			`gh.yaml:14:29: routes[2].request_headers.set.X A: "X A" is not a valid header name`,
			`gh.yaml:14:44: routes[2].request_headers.add.X-B: header value "a\rb" must not contain control characters such as CR, LF or NUL`,
			`gh.yaml:14:72: routes[2].request_headers.remove[1]: "X D" is not a valid header name`,
			`gh.yaml:15:39: routes[2].response_headers.set.X-Nul: header value "\x00" must not contain control characters such as CR, LF or NUL`,
		}},
		{"static", L + "routes:\n" +
			"  - {match: {path: /a}, static: {root: ''}}\n" +
			"  - match: {path: /b}\n    static: {root: \"${MISSING}\"}\n" +
			"  - match: {path: /c}\n    static: {root: \"${FILE}\"}\n" +
			"  - match: {path: /d}\n    static: {root: \"${DIR}\", index: a/b, cache_control: \"x\\ny\"}\n" +
			"  - match: {path: /e}\n    static: {}\n", []string{
			`gh.yaml:3:40: routes[0].static.root: is required: the directory to serve`,
			`gh.yaml:5:20: routes[1].static.root: directory "` + filepath.Join(dir, "missing") + `" does not exist`,
			`gh.yaml:7:20: routes[2].static.root: "` + file + `" is not a directory`,
			`gh.yaml:9:37: routes[3].static.index: "a/b" must be a file name, without /`,
			`gh.yaml:9:57: routes[3].static.cache_control: header value "x\ny" must not contain control characters such as CR, LF or NUL`,
			`gh.yaml:11:5: routes[4].static.root: is required: the directory to serve`,
		}},
		{"redirect", L + "routes:\n" +
			"  - {match: {path: /a}, redirect: {status: 301}}\n" +
			"  - {match: {path: /b}, redirect: {to: //evil.example/x}}\n" +
			"  - {match: {path: /c}, redirect: {to: 'ftp://x/'}}\n" +
			"  - {match: {path: /d}, redirect: {to: new}}\n" +
			"  - {match: {path: /e}, redirect: {to: 'https://ok.example/', status: 200}}\n" +
			"  - {match: {path: /f}, redirect: {to: \"/a\\r\\nSet-Cookie: x\"}}\n", []string{
			`gh.yaml:3:25: routes[0].redirect.to: is required: an absolute URL or a path starting with /`,
			`gh.yaml:4:40: routes[1].redirect.to: "//evil.example/x" would leave the site without naming a scheme; write https://evil.example/x`,
			`gh.yaml:5:40: routes[2].redirect.to: "ftp://x/" must be an absolute http(s) URL or a path starting with /`,
			`gh.yaml:6:40: routes[3].redirect.to: "new" must be an absolute http(s) URL or a path starting with /`,
			`gh.yaml:7:71: routes[4].redirect.status: 200 is not a redirect status; use 301, 302, 303, 307 or 308`,
			`gh.yaml:8:40: routes[5].redirect.to: "/a\r\nSet-Cookie: x" must not contain CR, LF or NUL`,
		}},
		{"respond", L + "routes:\n" +
			"  - {match: {path: /a}, respond: {status: 99}}\n" +
			"  - {match: {path: /b}, respond: {status: 600, headers: {'X:Y': v}}}\n", []string{
			`gh.yaml:3:43: routes[0].respond.status: 99 is not an HTTP status (100-599)`,
			`gh.yaml:4:43: routes[1].respond.status: 600 is not an HTTP status (100-599)`,
			`gh.yaml:4:58: routes[1].respond.headers.X:Y: "X:Y" is not a valid header name`,
		}},
		{"default route", U + "default_route:\n  match: {path: /x}\n  upstream: nope\n", []string{
			`gh.yaml:6:3: default_route.match: default_route cannot have a match; it handles the requests no route matches`,
			`gh.yaml:7:13: default_route.upstream: unknown upstream "nope"; defined: api`,
		}},
		{"default route without action", L + "default_route: {}\n", []string{
			`gh.yaml:2:1: default_route: has no action; set one of upstream, static, redirect or respond`,
		}},
	}, env("DIR", dir, "FILE", file, "MISSING", filepath.Join(dir, "missing")))
}

// TestValidateInCode checks Validate on a Config built in code: problems
// carry paths but no file or position.
func TestValidateInCode(t *testing.T) {
	neg := Size(-1)
	c := &Config{
		Listeners: []Listener{{Address: ":8080"}},
		Limits:    Limits{MaxBodyBytes: -1},
		Upstreams: map[string]*Upstream{"nil": nil},
		Routes:    []Route{{Respond: &Respond{}, MaxBodyBytes: &neg}},
	}
	c.ApplyDefaults()
	c.Limits.MaxBodyBytes = -1
	got := c.Validate()
	want := Problems{
		{Path: "limits.max_body_bytes", Msg: "must not be negative (0 means unlimited)"},
		{Path: "upstreams.nil", Msg: "is empty; give it targets, e.g. targets: [http://10.0.0.5:8080]"},
		{Path: "routes[0].max_body_bytes", Msg: "must not be negative (0 means unlimited)"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got:\n%v\nwant:\n%v", got, want)
	}
	if s := got[0].Error(); s != "limits.max_body_bytes: must not be negative (0 means unlimited)" {
		t.Errorf("Error() = %q", s)
	}
	if s := got.Error(); strings.Count(s, "\n") != 2 {
		t.Errorf("Problems.Error() = %q, want one line per problem", s)
	}
}

func TestValidConfigHasNoProblems(t *testing.T) {
	c := Default()
	c.Listeners = []Listener{{Address: "127.0.0.1:8080"}}
	c.Routes = []Route{{Upstream: "http://10.0.0.1:8080"}}
	c.ApplyDefaults()
	if ps := c.Validate(); len(ps) != 0 {
		t.Fatalf("Validate() = %v", ps)
	}
}

func TestHeaderValueControlCharacters(t *testing.T) {
	data := "listeners: [{address: ':8080'}]\nroutes:\n  - match: {path: /}\n    respond: {status: 200}\n    response_headers: {set: {X-Bell: \"a\\x07b\", X-Tab: \"a\\tb\"}}\n"
	_, err := Load([]byte(data), "gh.yaml", nil)
	want := `gh.yaml:5:30: routes[0].response_headers.set.X-Bell: header value "a\ab" must not contain control characters such as CR, LF or NUL`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
