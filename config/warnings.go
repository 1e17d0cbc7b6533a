package config

// Warnings returns what is valid but probably not what the author meant,
// by position: the config loads and runs, and `gatehouse validate` and
// each apply say so.
func (c *Config) Warnings() Problems {
	v := &checker{c: c}
	v.unreachableDefault()
	v.probs.sort()
	return v.probs
}

// unreachableDefault: a route that matches every request leaves nothing
// for default_route.
func (v *checker) unreachableDefault() {
	if v.c.DefaultRoute == nil {
		return
	}
	for i, r := range v.c.Routes {
		if isEmptyMatch(r.Match) {
			v.add("default_route", "never used: routes[%d] (path %q, no host, method or header condition) matches every request; remove default_route or narrow that route", i, "/")
			return
		}
	}
}
