package config

import (
	"strings"
	"time"

	"github.com/gatehouse-proxy/gatehouse/middleware/auth"
)

// ForwardOptions are the forward auth method a forward block describes,
// its CA read.
func ForwardOptions(a *ForwardAuth) (auth.ForwardOptions, error) {
	o := auth.ForwardOptions{
		URL:            a.URL,
		RequestHeaders: append([]string{}, a.RequestHeaders...), // [] means none, not the default
		UserHeader:     a.UserHeader,
		CopyHeaders:    a.CopyHeaders,
		Timeout:        a.Timeout.D(),
		OnError:        a.OnError,
	}
	if c := a.Cache; c != nil {
		o.Cache = auth.ForwardCache{TTL: c.TTL.D(), MaxEntries: c.MaxEntries}
		if len(c.Key) > 0 { // none listed: request_headers
			o.Cache.Key = c.Key
		}
	}
	if a.CA != "" {
		var err error
		if o.RootCAs, err = readCAPool(a.CA); err != nil {
			return o, err
		}
	}
	return o, nil
}

// forwardAuth checks a forward block, the options with the method's own
// constructor.
func (v *checker) forwardAuth(p string, a *ForwardAuth) {
	if a.URL == "" {
		v.add(p+".url", "is required: the authentication service, e.g. http://127.0.0.1:9091/verify")
		return
	}
	if a.CA != "" {
		v.check(p+".ca", checkCAFile(a.CA))
	}
	switch a.OnError {
	case "deny", "allow":
	default:
		v.add(p+".on_error", "unknown value %q; use deny (answer 503 while the service fails) or allow (admit as nobody: optional auth only)", a.OnError)
		return
	}
	v.positive(p+".timeout", a.Timeout)
	if c := a.Cache; c != nil {
		v.positive(p+".cache.ttl", c.TTL)
		if c.TTL > Duration(10*time.Minute) {
			v.add(p+".cache.ttl", "is over 10m: a session the service revokes would keep working that long")
		}
		if c.MaxEntries <= 0 {
			v.add(p+".cache.max_entries", "must be greater than 0, e.g. 10000")
		}
	}
	o, err := ForwardOptions(&ForwardAuth{URL: a.URL, RequestHeaders: a.RequestHeaders, UserHeader: a.UserHeader,
		CopyHeaders: a.CopyHeaders, Timeout: a.Timeout, OnError: a.OnError, Cache: a.Cache})
	if err == nil {
		var f *auth.Forward
		if f, err = auth.NewForward(o); err == nil {
			_ = f.Close()
		}
	}
	if err != nil {
		v.add(p, "%s", strings.TrimPrefix(err.Error(), "forward auth: "))
	}
}
