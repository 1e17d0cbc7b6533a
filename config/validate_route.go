package config

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"
)

func (v *checker) routes() {
	names, matches := map[string]string{}, map[string]int{}
	for i := range v.c.Routes {
		p := fmt.Sprintf("routes[%d]", i)
		r := &v.c.Routes[i]
		v.route(p, r)
		v.unique(names, r.Name, p+".name", p, "name")
		key := matchKey(r.Match)
		if j, ok := matches[key]; ok {
			v.add(p+".match", "matches the same requests as routes[%d] (path %q); change the host, path, methods or headers of one of them", j, v.c.Routes[j].Match.Path)
		} else {
			matches[key] = i
		}
	}
	if r := v.c.DefaultRoute; r != nil {
		if !isEmptyMatch(r.Match) {
			v.add("default_route.match", "default_route cannot have a match; it handles the requests no route matches")
		}
		v.route("default_route", r)
		v.unique(names, r.Name, "default_route.name", "default_route", "name")
	}
}

// isEmptyMatch reports whether m matches everything.
func isEmptyMatch(m Match) bool {
	return len(m.Host) == 0 && (m.Path == "" || m.Path == "/") && len(m.Methods) == 0 && len(m.Headers) == 0 && m.TLS == nil
}

// matchKey is equal for two matches that select the same requests: hosts and
// methods as sets (hosts case-insensitive), the path without a trailing slash,
// header names case-insensitive.
func matchKey(m Match) string {
	hosts := make([]string, len(m.Host))
	for i, h := range m.Host {
		hosts[i] = strings.ToLower(h)
	}
	methods := slices.Clone(m.Methods)
	var headers []string
	for name, val := range m.Headers {
		headers = append(headers, strings.ToLower(name)+":"+val)
	}
	key := setKey(hosts) + "\x00" + trimSlash(m.Path) + "\x00" + setKey(methods) + "\x00" + setKey(headers)
	if t := m.TLS; t != nil {
		sni := make([]string, len(t.SNI))
		for i, n := range t.SNI {
			sni[i] = strings.ToLower(n)
		}
		key += "\x00tls\x00" + setKey(sni) + "\x00" + setKey(slices.Clone(t.Versions)) + "\x00" + setKey(slices.Clone(t.Ciphers)) + "\x00" + t.ClientCert +
			"\x00" + setKey(slices.Clone(t.ClientSubject))
	}
	return key
}

func setKey(items []string) string {
	slices.Sort(items)
	return strings.Join(slices.Compact(items), "\x01")
}

func (v *checker) route(p string, r *Route) {
	v.action(p, r)
	v.match(p+".match", r.Match)
	v.rewrite(p, r)
	if r.HostHeader != "" && r.HostHeader != "target" {
		if msg := checkHostPort(r.HostHeader, false, false); msg != "" {
			v.add(p+".host_header", `%s; use "" (keep the client's), "target" or host[:port]`, msg)
		}
	}
	v.headerOps(p+".request_headers", r.RequestHeaders)
	v.headerOps(p+".response_headers", r.ResponseHeaders)
	if a := r.ClientAuth; a != nil {
		if a.CA == "" {
			v.add(p+".client_auth.ca", "is required: the PEM bundle client certificates must chain to")
		} else {
			v.check(p+".client_auth.ca", checkCAFile(a.CA))
		}
		if !slices.ContainsFunc(v.c.Listeners, func(l Listener) bool { return l.TLS != nil && l.TLS.ClientAuth != nil }) {
			v.add(p+".client_auth", "no listener asks for client certificates; add tls.client_auth (mode request or require) to a listener")
		}
	}
	if r.MaxBodyBytes != nil && *r.MaxBodyBytes < 0 {
		v.add(p+".max_body_bytes", "must not be negative (0 means unlimited)")
	}
	if r.Cache != nil {
		v.routeCache(p+".cache", r)
	}
	if r.Compress != nil {
		v.compress(p+".compress", r.Compress)
	}
	v.routeRateLimits(p+".rate_limit", r.RateLimit)
	v.routeEdge(p, r)
	if r.Auth != nil {
		v.routeAuth(p+".auth", r.Auth)
	}
}

func (v *checker) action(p string, r *Route) {
	var given []string
	if r.Upstream != "" {
		given = append(given, "upstream")
		v.upstreamRef(p+".upstream", r.Upstream)
	}
	if r.Static != nil {
		given = append(given, "static")
		v.static(p+".static", r.Static)
	}
	if r.Redirect != nil {
		given = append(given, "redirect")
		v.redirect(p+".redirect", r.Redirect)
	}
	if r.Respond != nil {
		given = append(given, "respond")
		if r.Respond.Status < 100 || r.Respond.Status > 599 {
			v.add(p+".respond.status", "%d is not an HTTP status (100-599)", r.Respond.Status)
		}
		v.headerMap(p+".respond.headers", r.Respond.Headers)
	}
	switch len(given) {
	case 0:
		v.add(p, "has no action; set one of upstream, static, redirect or respond")
	case 1:
	default:
		v.add(p, "has %s; a route takes exactly one of upstream, static, redirect or respond", strings.Join(given, " and "))
	}
}

// upstreamRef checks a route's upstream: a defined name or an http URL.
func (v *checker) upstreamRef(p, ref string) {
	if strings.Contains(ref, "://") {
		v.check(p, checkUpstreamURL(ref))
		return
	}
	if _, ok := v.c.Upstreams[ref]; ok {
		return
	}
	if len(v.c.Upstreams) == 0 {
		v.add(p, "unknown upstream %q; no upstreams are defined (or write a URL such as http://10.0.0.5:8080)", ref)
		return
	}
	v.add(p, "unknown upstream %q; defined: %s", ref, strings.Join(slices.Sorted(maps.Keys(v.c.Upstreams)), ", "))
}

func (v *checker) static(p string, s *Static) {
	switch fi, err := os.Stat(s.Root); {
	case s.Root == "":
		v.add(p+".root", "is required: the directory to serve")
	case errors.Is(err, fs.ErrNotExist):
		v.add(p+".root", "directory %q does not exist", s.Root)
	case err != nil:
		v.add(p+".root", "cannot use %q: %v", s.Root, err)
	case !fi.IsDir():
		v.add(p+".root", "%q is not a directory", s.Root)
	}
	if strings.Contains(s.Index, "/") || s.Index == "." || s.Index == ".." {
		v.add(p+".index", "%q must be a file name, without /", s.Index)
	}
	v.check(p+".cache_control", checkHeaderValue(s.CacheControl))
}

func (v *checker) redirect(p string, r *Redirect) {
	switch u, err := url.Parse(r.To); {
	case r.To == "":
		v.add(p+".to", "is required: an absolute URL or a path starting with /")
	case strings.ContainsAny(r.To, "\r\n\x00"):
		v.add(p+".to", "%q must not contain CR, LF or NUL", r.To)
	case strings.HasPrefix(r.To, "//"):
		v.add(p+".to", "%q would leave the site without naming a scheme; write https:%s", r.To, r.To)
	case strings.HasPrefix(r.To, "/"):
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		v.add(p+".to", "%q must be an absolute http(s) URL or a path starting with /", r.To)
	}
	switch r.Status {
	case 301, 302, 303, 307, 308:
	default:
		v.add(p+".status", "%d is not a redirect status; use 301, 302, 303, 307 or 308", r.Status)
	}
}

func (v *checker) match(p string, m Match) {
	v.check(p+".path", checkPath(m.Path))
	for i, h := range m.Host {
		v.check(fmt.Sprintf("%s.host[%d]", p, i), checkMatchHost(h))
	}
	for i, method := range m.Methods {
		mp := fmt.Sprintf("%s.methods[%d]", p, i)
		if !isToken(method) {
			v.add(mp, "%q is not a valid method", method)
		} else if up := strings.ToUpper(method); up != method {
			v.add(mp, "method %q must be upper-case: %s", method, up)
		}
	}
	v.headerMap(p+".headers", m.Headers)
	if t := m.TLS; t != nil {
		for i, n := range t.SNI {
			v.check(fmt.Sprintf("%s.tls.sni[%d]", p, i), checkMatchHost(n))
		}
		for i, ver := range t.Versions {
			v.oneOf(fmt.Sprintf("%s.tls.versions[%d]", p, i), "TLS version", ver, TLSVersions()...)
		}
		for i, c := range t.Ciphers {
			if _, ok := CipherSuiteID(c); !ok {
				v.add(fmt.Sprintf("%s.tls.ciphers[%d]", p, i), "unknown cipher suite %q; use IANA names such as TLS_AES_128_GCM_SHA256", c)
			}
		}
		if t.ClientCert != "" {
			v.oneOf(p+".tls.client_cert", "client_cert", t.ClientCert, ClientCertMatches()...)
		}
		for i, subj := range t.ClientSubject {
			if strings.TrimSpace(subj) == "" || !strings.Contains(subj, "=") {
				v.add(fmt.Sprintf("%s.tls.client_subject[%d]", p, i), "%q is not a subject such as CN=alice,O=Example", subj)
			}
		}
		if len(t.ClientSubject) > 0 && t.ClientCert == "none" {
			v.add(p+".tls.client_subject", "needs a verified certificate, but client_cert is none")
		}
	}
}

// rewrite checks the path rewrite. A prefix that is stripped must be a
// segment prefix of match.path, so it applies to every request the route
// takes.
func (v *checker) rewrite(p string, r *Route) {
	rw, rp := r.Rewrite, p+".rewrite"
	if rw.StripPrefix != "" {
		v.prefixOfMatch(rp+".strip_prefix", rw.StripPrefix, r.Match.Path)
	}
	if rw.AddPrefix != "" {
		v.check(rp+".add_prefix", checkPath(rw.AddPrefix))
	}
	if rw.ReplacePrefix == nil {
		return
	}
	if rw.StripPrefix != "" || rw.AddPrefix != "" {
		v.add(rp+".replace_prefix", "cannot be combined with strip_prefix or add_prefix; it does both itself")
	}
	v.prefixOfMatch(rp+".replace_prefix.from", rw.ReplacePrefix.From, r.Match.Path)
	v.check(rp+".replace_prefix.to", checkPath(rw.ReplacePrefix.To))
}

func (v *checker) prefixOfMatch(p, prefix, matchPath string) {
	if msg := checkPath(prefix); msg != "" {
		v.add(p, "%s", msg)
	} else if !hasSegmentPrefix(matchPath, prefix) {
		v.add(p, "%q is not a prefix of match.path %q at a / boundary, so it would not apply to every request", prefix, matchPath)
	}
}

func (v *checker) headerOps(p string, ops HeaderOps) {
	v.headerTemplates(p+".set", ops.Set)
	v.headerTemplates(p+".add", ops.Add)
	for i, name := range ops.Remove {
		v.headerName(fmt.Sprintf("%s.remove[%d]", p, i), name)
	}
}
