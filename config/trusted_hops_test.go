package config

import "testing"

func TestTrustedHops(t *testing.T) {
	for _, tt := range []struct {
		src  string
		want int
	}{
		{L, 0},
		{L + "trusted_proxies: [10.0.0.0/8]\ntrusted_hops: 0\n", 0},
		{L + "trusted_proxies: [10.0.0.0/8]\ntrusted_hops: 2\n", 2},
		{L + "trusted_proxies: [0.0.0.0/0, \"::/0\"]\ntrusted_hops: 16\n", 16},
		{L + "trusted_hops: ~\n", 0},
		{L + "trusted_proxies: [10.0.0.1]\ntrusted_hops: ${HOPS}\n", 3},
	} {
		if c := mustLoad(t, tt.src, env("HOPS", "3")); c.TrustedHops != tt.want {
			t.Errorf("%q: trusted_hops %d, want %d", tt.src, c.TrustedHops, tt.want)
		}
	}
}

func TestValidateTrustedHops(t *testing.T) {
	runValidateCases(t, []validateCase{
		{"negative", L + "trusted_proxies: [10.0.0.0/8]\ntrusted_hops: -1\n", []string{
			`gh.yaml:3:15: trusted_hops: must be between 0 and 16 (the number of proxies in front of Gatehouse that append to X-Forwarded-For), got -1`,
		}},
		{"too many", L + "trusted_proxies: [10.0.0.0/8]\ntrusted_hops: 17\n", []string{
			`gh.yaml:3:15: trusted_hops: must be between 0 and 16 (the number of proxies in front of Gatehouse that append to X-Forwarded-For), got 17`,
		}},
		{"without trusted_proxies", L + "trusted_hops: 2\n", []string{
			`gh.yaml:2:15: trusted_hops: needs trusted_proxies, the peers whose X-Forwarded-For is counted, e.g. your load balancer's network 10.0.0.0/8 (or [0.0.0.0/0, "::/0"] if any peer may send it)`,
		}},
		{"with empty trusted_proxies", L + "trusted_proxies: []\ntrusted_hops: 1\n", []string{
			`gh.yaml:3:15: trusted_hops: needs trusted_proxies, the peers whose X-Forwarded-For is counted, e.g. your load balancer's network 10.0.0.0/8 (or [0.0.0.0/0, "::/0"] if any peer may send it)`,
		}},
		{"with a bad trusted proxy", L + "trusted_proxies: [lb.internal]\ntrusted_hops: 2\n", []string{
			`gh.yaml:2:19: trusted_proxies[0]: "lb.internal" is not an IP address or CIDR, e.g. 10.0.0.0/8 or 192.168.1.10`,
		}},
	}, nil)
}

func TestTrustedHopsNotANumber(t *testing.T) {
	for _, src := range []string{
		L + "trusted_proxies: [10.0.0.0/8]\ntrusted_hops: two\n",
		L + "trusted_proxies: [10.0.0.0/8]\ntrusted_hops: 1.5\n",
		L + "trusted_proxies: [10.0.0.0/8]\ntrusted_hops: [2]\n",
	} {
		ps := problems(t, src, nil)
		if len(ps) != 1 || ps[0][:len("gh.yaml:3:")] != "gh.yaml:3:" {
			t.Errorf("%q: problems %q, want one on line 3", src, ps)
		}
	}
}
