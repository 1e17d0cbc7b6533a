package policy

import (
	"net/http"
	"net/url"
	"strings"
)

// IsUnsafe reports whether method is not one of the safe methods GET,
// HEAD, OPTIONS and TRACE (RFC 9110 9.2.1). Methods are case-sensitive, so
// "get" is an unknown method and, its safety being unknown, unsafe (RFC
// 9111 4.4: "including methods whose safety is unknown").
func IsUnsafe(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// InvalidationTargets returns the URIs whose stored responses a cache
// invalidates after forwarding a request (RFC 9111 4.4): none unless the
// method is unsafe (IsUnsafe) and the status is a non-error one (2xx or
// 3xx); then the target URI first (4.4 MUST), followed by the URI-references
// of Location and Content-Location resolved against it, when they have
// the same origin (scheme, host and port; RFC 9110 4.3.1) as the target
// (4.4 MAY, and MUST NOT for another origin).
//
// target is the absolute target URI (scheme and host set). The URLs
// returned are new, normalized the way the cache keys them: scheme and
// host lower-cased, the scheme's default port dropped, an empty path
// written "/", user information and fragment removed; duplicates are
// dropped.
func InvalidationTargets(method string, target *url.URL, status int, resp http.Header) []*url.URL {
	if !IsUnsafe(method) || status < 200 || status > 399 || target == nil {
		return nil
	}
	t := normalizeURL(target)
	out := []*url.URL{t}
	for _, f := range [...]string{"Location", "Content-Location"} {
		lines := resp[f]
		if len(lines) == 0 {
			continue
		}
		ref, err := url.Parse(trimOWS(lines[0]))
		if err != nil {
			continue
		}
		u := normalizeURL(target.ResolveReference(ref))
		if u.Scheme != t.Scheme || u.Host != t.Host {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o.String() == u.String()
		}
		if !dup {
			out = append(out, u)
		}
	}
	return out
}

// normalizeURL returns the cache's form of u (see InvalidationTargets).
func normalizeURL(u *url.URL) *url.URL {
	n := &url.URL{
		Scheme:   strings.ToLower(u.Scheme),
		Host:     strings.ToLower(u.Host),
		Path:     u.Path,
		RawPath:  u.RawPath,
		RawQuery: u.RawQuery,
		Opaque:   u.Opaque,
	}
	if port := n.Port(); (n.Scheme == "http" && port == "80") || (n.Scheme == "https" && port == "443") {
		n.Host = strings.TrimSuffix(n.Host, ":"+port)
	} else if strings.HasSuffix(n.Host, ":") {
		n.Host = strings.TrimSuffix(n.Host, ":") // an empty port is the default one
	}
	if n.Path == "" && n.Opaque == "" {
		n.Path, n.RawPath = "/", ""
	}
	return n
}
