package config

import (
	"fmt"
	"net/url"
	"strings"
)

func (v *checker) upstream(p, name string, u *Upstream) {
	if !isUpstreamName(name) {
		v.add(p, "upstream name %q may only contain letters, digits, _, . and -", name)
	}
	if u == nil {
		v.add(p, "is empty; give it targets, e.g. targets: [http://10.0.0.5:8080]")
		return
	}
	v.targets(p+".targets", u.Targets)
	v.oneOf(p+".balance", "balance", u.Balance, "round_robin", "least_conn", "p2c", "hash", "sticky")
	v.check(p+".hash_key", checkHashKey(u.HashKey))
	if !isToken(u.Sticky.Cookie) {
		v.add(p+".sticky.cookie", "%q is not a valid cookie name", u.Sticky.Cookie)
	}
	v.nonNegative(p+".sticky.max_age", u.Sticky.MaxAge)
	v.positive(p+".dial_timeout", u.DialTimeout)
	v.positive(p+".response_header_timeout", u.ResponseHeaderTimeout)
	v.nonNegative(p+".idle_conn_timeout", u.IdleConnTimeout)
	v.nonNegative(p+".upgrade_idle_timeout", u.UpgradeIdleTimeout)
	v.nonNegative(p+".send_timeout", u.SendTimeout)
	v.nonNegative(p+".read_timeout", u.ReadTimeout)
	if u.MaxIdleConns < 0 {
		v.add(p+".max_idle_conns", "must not be negative, got %d", u.MaxIdleConns)
	}
	if u.MaxConns < 0 {
		v.add(p+".max_conns", "must not be negative (0 means no limit), got %d", u.MaxConns)
	}
	if u.Health.Active != nil {
		v.active(p+".health.active", u.Health.Active)
	}
	v.passive(p+".health.passive", u.Health.Passive)
	v.retry(p+".retry", u.Retry)
}

func isUpstreamName(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == ""
}

func (v *checker) targets(p string, ts []Target) {
	if len(ts) == 0 {
		v.add(p, "at least one target is required, e.g. targets: [http://10.0.0.5:8080]")
	}
	seen := map[string]string{}
	for i, t := range ts {
		tp := fmt.Sprintf("%s[%d]", p, i)
		if msg := checkUpstreamURL(t.URL); msg != "" {
			v.add(tp+".url", "%s", msg)
		} else {
			u, _ := url.Parse(t.URL)
			v.unique(seen, "http://"+strings.ToLower(u.Host), tp+".url", tp, "target")
		}
		if t.Weight < 1 || t.Weight > 1000 {
			v.add(tp+".weight", "must be from 1 to 1000, got %d", t.Weight)
		}
	}
}

// checkUpstreamURL accepts http://host:port with an optional trailing "/".
func checkUpstreamURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		return fmt.Sprintf("%q is not a URL like http://10.0.0.5:8080", s)
	}
	var msg string
	switch {
	case u.Scheme == "https":
		msg = "https upstreams are not supported yet; use http://"
	case u.Scheme != "http":
		msg = fmt.Sprintf("scheme %q is not supported; use http://", u.Scheme)
	case u.User != nil:
		msg = "must not contain user info (user@)"
	case u.Host == "":
		msg = "has no host"
	case u.Path != "" && u.Path != "/":
		msg = "must not have a path; to add a path prefix use the route's rewrite.add_prefix"
	case u.RawQuery != "" || u.ForceQuery:
		msg = "must not have a query"
	case u.Fragment != "":
		msg = "must not have a fragment"
	default:
		msg = checkHostPort(u.Host, false, true)
		if msg == "" {
			return ""
		}
	}
	return fmt.Sprintf("%q: %s", s, msg)
}

// checkHashKey accepts client_ip, header:<Name> and cookie:<Name>.
func checkHashKey(k string) string {
	kind, name, ok := strings.Cut(k, ":")
	switch {
	case k == "client_ip":
		return ""
	case ok && kind == "header" && isToken(name):
		return ""
	case ok && kind == "cookie" && isToken(name):
		return ""
	case ok && (kind == "header" || kind == "cookie"):
		return fmt.Sprintf("%q is not a valid %s name", name, kind)
	}
	return fmt.Sprintf("unknown hash_key %q; use client_ip, header:<Name> or cookie:<Name>", k)
}

func (v *checker) active(p string, a *ActiveHealth) {
	if _, err := url.ParseRequestURI(a.Path); err != nil || !strings.HasPrefix(a.Path, "/") {
		v.add(p+".path", "%q must be a path starting with /, e.g. /healthz", a.Path)
	}
	if a.Host != "" {
		v.check(p+".host", checkHostPort(a.Host, false, false))
	}
	v.positive(p+".interval", a.Interval)
	if a.Timeout <= 0 || a.Timeout > a.Interval {
		v.add(p+".timeout", "must be greater than 0 and at most interval (%s), got %s", a.Interval, a.Timeout)
	}
	if _, err := ParseStatusSet(a.ExpectStatus); err != nil {
		v.add(p+".expect_status", "%v", err)
	}
	if a.HealthyThreshold < 1 {
		v.add(p+".healthy_threshold", "must be at least 1, got %d", a.HealthyThreshold)
	}
	if a.UnhealthyThreshold < 1 {
		v.add(p+".unhealthy_threshold", "must be at least 1, got %d", a.UnhealthyThreshold)
	}
}

func (v *checker) passive(p string, h PassiveHealth) {
	if h.MaxFails < 0 {
		v.add(p+".max_fails", "must not be negative (0 disables passive checks), got %d", h.MaxFails)
	}
	if h.MaxFails > 0 && h.Cooldown <= 0 {
		v.add(p+".cooldown", "must be greater than 0 when max_fails is set, got %s", h.Cooldown)
	} else {
		v.nonNegative(p+".cooldown", h.Cooldown)
	}
	for i, s := range h.FailStatus {
		if s < 100 || s > 599 {
			v.add(fmt.Sprintf("%s.fail_status[%d]", p, i), "%d is not an HTTP status (100-599)", s)
		}
	}
}

func (v *checker) retry(p string, r Retry) {
	if r.Attempts < 1 || r.Attempts > 8 {
		v.add(p+".attempts", "must be from 1 to 8 (1 disables retries), got %d", r.Attempts)
	}
	if !(r.Budget >= 0 && r.Budget <= 1) {
		v.add(p+".budget", "must be a fraction from 0 to 1, got %g", r.Budget)
	}
	if r.MinPerSecond < 0 {
		v.add(p+".min_per_second", "must not be negative, got %d", r.MinPerSecond)
	}
}
