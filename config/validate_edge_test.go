package config

import "testing"

func TestValidateEdge(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"ip_filter", R + "  - upstream: api\n    ip_filter: {allow: [10.0.0.0/8, 10.0.0.300]}\n", []string{
			`gh.yaml:7:5: routes[0].ip_filter: allow[1] "10.0.0.300": not an address or CIDR: ParseAddr("10.0.0.300"): IPv4 field has value >255`,
		}},
		{"cors", R + "  - upstream: api\n    cors: {allow_origins: ['*'], allow_credentials: true}\n  - match: {path: /b}\n    upstream: api\n    cors: {allow_origins: ['https://*.com']}\n", []string{
			`gh.yaml:7:5: routes[0].cors: allow_origins "*" with allow_credentials: browsers refuse "*" on credentialed requests, and answering every origin by name would let any site act as the user; list the origins`,
			`gh.yaml:10:5: routes[1].cors: allow_origins "https://*.com": *.com would allow every site under a top-level domain`,
		}},
		{"request_limits", R + "  - upstream: api\n    request_limits: {max_header_bytes: -1, methods: [GET, 'B D']}\n", []string{
			`gh.yaml:7:40: routes[0].request_limits.max_header_bytes: size -1 must not be negative`,
			`gh.yaml:7:59: routes[0].request_limits.methods[1]: "B D" is not a method name`,
		}},
	}, nil)
}
