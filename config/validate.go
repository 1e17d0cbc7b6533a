package config

import (
	"fmt"

	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/middleware/ipfilter"
)

// Validate checks c and returns every problem found, ordered by position
// (problems without one first); an empty result means c is valid. Each
// problem names the offending setting by path and, for a Config from Load,
// where it is written.
//
// Validate judges c as it is: it does not fill defaults, so a Config built
// in code should call ApplyDefaults first. It only reads c (and, for static
// routes, stats the root directory).
func (c *Config) Validate() Problems {
	v := &checker{c: c}
	v.listeners()
	v.tlsListeners()
	v.globals()
	v.certificates()
	for _, name := range slices.Sorted(maps.Keys(c.Upstreams)) {
		v.upstream("upstreams."+name, name, c.Upstreams[name])
	}
	v.caches()
	v.rateLimitStores()
	v.authenticators()
	v.routes()
	v.probs.sort()
	return v.probs
}

// TrustedPrefixes returns trusted_proxies as prefixes, single addresses as
// /32 or /128, with host bits masked off. Entries that do not parse (which
// Validate reports) are left out.
func (c *Config) TrustedPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		if p, err := parseTrusted(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// ParsePrefix parses an address list entry (trusted_proxies,
// purge_from): a CIDR, or a single IP as /32 or /128, host bits masked.
func ParsePrefix(s string) (netip.Prefix, error) { return parseTrusted(s) }

func parseTrusted(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if ip.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("zone not allowed")
	}
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}

// maxTrustedHops bounds trusted_hops: no real chain of proxies is longer,
// and a larger number is more likely a typo.
const maxTrustedHops = 16

// checker collects the problems of one Validate run.
type checker struct {
	c     *Config
	probs Problems
}

// add records a problem with the setting at path; the message completes
// "path: ".
func (v *checker) add(path, format string, args ...any) {
	v.probs = append(v.probs, Problem{File: v.c.file, Pos: v.c.PosOf(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// check records msg, if any, as a problem with the setting at path.
func (v *checker) check(path, msg string) {
	if msg != "" {
		v.add(path, "%s", msg)
	}
}

// unique reports key at path if an earlier element had it; seen maps keys to
// the element that had them first. Empty keys are not compared.
func (v *checker) unique(seen map[string]string, key, path, owner, what string) {
	if key == "" {
		return
	}
	if first, ok := seen[key]; ok {
		v.add(path, "%s %q is already used by %s", what, key, first)
		return
	}
	seen[key] = owner
}

func (v *checker) nonNegative(path string, d Duration) {
	if d < 0 {
		v.add(path, "must not be negative, got %s", d)
	}
}

func (v *checker) positive(path string, d Duration) {
	if d <= 0 {
		v.add(path, "must be greater than 0, got %s", d)
	}
}

func (v *checker) listeners() {
	if len(v.c.Listeners) == 0 {
		v.add("listeners", `at least one listener is required, e.g. listeners: [{address: ":8080"}]`)
	}
	addrs, names := map[string]string{}, map[string]string{}
	for i, l := range v.c.Listeners {
		p := fmt.Sprintf("listeners[%d]", i)
		if l.Address == "" {
			v.add(p+".address", `is required, e.g. ":8080" or "127.0.0.1:8080"`)
		} else {
			v.check(p+".address", checkHostPort(l.Address, true, true))
		}
		_, dupAddr := addrs[strings.ToLower(l.Address)]
		v.unique(addrs, strings.ToLower(l.Address), p+".address", p, "address")
		if !dupAddr || l.Name != l.Address { // a name defaulted from a duplicate address repeats that problem
			v.unique(names, l.Name, p+".name", p, "name")
		}
		v.nonNegative(p+".read_header_timeout", l.ReadHeaderTimeout)
		v.nonNegative(p+".read_timeout", l.ReadTimeout)
		v.nonNegative(p+".client_body_timeout", l.ClientBodyTimeout)
		v.nonNegative(p+".send_timeout", l.SendTimeout)
		v.nonNegative(p+".write_timeout", l.WriteTimeout)
		v.nonNegative(p+".idle_timeout", l.IdleTimeout)
		if l.MaxHeaderBytes <= 0 {
			v.add(p+".max_header_bytes", "must be greater than 0, e.g. 64KiB")
		}
		if l.MaxHeaderCount <= 0 {
			v.add(p+".max_header_count", "must be greater than 0, e.g. 100")
		}
		if l.Engine != EngineGatehouse && l.Engine != EngineStdlib {
			at := p + ".engine"
			if _, written := v.c.pos[at]; !written && v.c.engine != "" {
				v.add(at, "%s=%q is not an engine; want %s or %s", EngineEnv, l.Engine, EngineGatehouse, EngineStdlib)
			} else {
				v.add(at, "%q is not an engine; want %s or %s", l.Engine, EngineGatehouse, EngineStdlib)
			}
		}
		if f := l.IPFilter; f != nil {
			if _, err := ipfilter.Parse(f.Allow, f.Deny); err != nil {
				v.add(p+".ip_filter", "%v", err)
			}
		}
	}
}

func (v *checker) globals() {
	c := v.c
	for i, s := range c.TrustedProxies {
		if _, err := parseTrusted(s); err != nil {
			v.add(fmt.Sprintf("trusted_proxies[%d]", i), "%q is not an IP address or CIDR, e.g. 10.0.0.0/8 or 192.168.1.10", s)
		}
	}
	switch {
	case c.TrustedHops < 0 || c.TrustedHops > maxTrustedHops:
		v.add("trusted_hops", "must be between 0 and %d (the number of proxies in front of Gatehouse that append to X-Forwarded-For), got %d", maxTrustedHops, c.TrustedHops)
	case c.TrustedHops > 0 && len(c.TrustedProxies) == 0:
		v.add("trusted_hops", "needs trusted_proxies, the peers whose X-Forwarded-For is counted, e.g. your load balancer's network 10.0.0.0/8 (or [0.0.0.0/0, \"::/0\"] if any peer may send it)")
	}
	if !isToken(c.Forwarding.RequestIDHeader) {
		v.add("forwarding.request_id_header", "%q is not a valid header name, e.g. X-Request-ID", c.Forwarding.RequestIDHeader)
	}
	if c.Limits.MaxBodyBytes < 0 {
		v.add("limits.max_body_bytes", "must not be negative (0 means unlimited)")
	}
	v.nonNegative("limits.drain_timeout", c.Limits.DrainTimeout)

	v.oneOf("log.format", "format", c.Log.Format, "json", "text")
	v.oneOf("log.level", "level", c.Log.Level, "debug", "info", "warn", "error")
	if c.Log.Output == "" {
		v.add("log.output", "must be stdout, stderr or a file path")
	}
}

// oneOf reports val at path unless it is one of allowed.
func (v *checker) oneOf(path, what, val string, allowed ...string) {
	if !slices.Contains(allowed, val) {
		v.add(path, "unknown %s %q; use %s", what, val, orList(allowed))
	}
}

// orList writes a, b or c.
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// headerMap checks header names (a map's keys) and values.
func (v *checker) headerMap(path string, m map[string]string) {
	for _, name := range slices.Sorted(maps.Keys(m)) {
		v.headerName(join(path, name), name)
		v.check(join(path, name), checkHeaderValue(m[name]))
	}
}

// headerTemplates checks header names and values that may hold
// placeholders.
func (v *checker) headerTemplates(path string, m map[string]string) {
	v.headerMap(path, m)
	for _, name := range slices.Sorted(maps.Keys(m)) {
		v.check(join(path, name), checkPlaceholders(m[name]))
	}
}

func (v *checker) headerName(path, name string) {
	if !isToken(name) {
		v.add(path, "%q is not a valid header name", name)
	}
}
