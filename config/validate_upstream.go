package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The names and limits of an upstream's settings. The compilers accept
// exactly these (gateway's tests compare them with upstream's); they are
// functions so no caller can change them.

// BalanceNames returns the balance policies, in upstream.Balance order.
func BalanceNames() []string {
	return []string{"round_robin", "least_conn", "p2c", "hash", "sticky"}
}

// HashKeyKinds returns the kinds of hash_key: client_ip, and header and
// cookie, which take a name after a colon.
func HashKeyKinds() []string { return []string{"client_ip", "header", "cookie"} }

// TargetSchemes returns the schemes of target URLs.
func TargetSchemes() []string { return []string{"http", "https", "h2c"} }

// MaxAttempts is the most retry.attempts may be.
const MaxAttempts = 8

// SplitHashKey splits a valid hash_key into its kind and name:
// "header:X-User" gives "header" and "X-User", "client_ip" gives
// "client_ip" and "".
func SplitHashKey(k string) (kind, name string) {
	kind, name, _ = strings.Cut(k, ":")
	return kind, name
}

func (v *checker) upstream(p, name string, u *Upstream) {
	if !isUpstreamName(name) {
		v.add(p, "upstream name %q may only contain letters, digits, _, . and -", name)
	}
	if u == nil {
		v.add(p, "is empty; give it targets, e.g. targets: [http://10.0.0.5:8080]")
		return
	}
	scheme := v.targets(p+".targets", u.Targets)
	v.upstreamTLS(p+".tls", &u.TLS, scheme)
	v.oneOf(p+".balance", "balance", u.Balance, BalanceNames()...)
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

// targets checks the target URLs and returns the scheme they share ("" if
// none is valid).
func (v *checker) targets(p string, ts []Target) string {
	if len(ts) == 0 {
		v.add(p, "at least one target is required, e.g. targets: [http://10.0.0.5:8080]")
	}
	seen := map[string]string{}
	scheme, first := "", ""
	for i, t := range ts {
		tp := fmt.Sprintf("%s[%d]", p, i)
		if msg := checkUpstreamURL(t.URL); msg != "" {
			v.add(tp+".url", "%s", msg)
		} else {
			u, _ := url.Parse(t.URL)
			switch {
			case scheme == "":
				scheme, first = u.Scheme, tp
			case u.Scheme != scheme:
				v.add(tp+".url", "scheme %s differs from %s in %s; all targets of an upstream use one scheme (make a second upstream)", u.Scheme, scheme, first)
			}
			v.unique(seen, u.Scheme+"://"+strings.ToLower(u.Host), tp+".url", tp, "target")
		}
		if t.Weight < 1 || t.Weight > 1000 {
			v.add(tp+".weight", "must be from 1 to 1000, got %d", t.Weight)
		}
	}
	return scheme
}

// checkUpstreamURL accepts scheme://host:port with an optional trailing
// "/", where scheme is http, https or h2c (which needs the port).
func checkUpstreamURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		return fmt.Sprintf("%q is not a URL like http://10.0.0.5:8080", s)
	}
	var msg string
	switch {
	case !slices.Contains(TargetSchemes(), u.Scheme):
		msg = fmt.Sprintf("scheme %q is not supported; use http://, https:// or h2c:// (cleartext HTTP/2, e.g. for gRPC)", u.Scheme)
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
	case u.Scheme == "h2c" && u.Port() == "":
		msg = "h2c has no default port; add it, e.g. h2c://10.0.0.5:50051"
	default:
		msg = checkHostPort(u.Host, false, true)
		if msg == "" {
			return ""
		}
	}
	return fmt.Sprintf("%q: %s", s, msg)
}

// upstreamTLS checks the tls block of an upstream whose targets use
// scheme ("" when no target URL is valid).
func (v *checker) upstreamTLS(p string, t *UpstreamTLS, scheme string) {
	if *t == (UpstreamTLS{}) {
		return
	}
	if scheme != "https" {
		if scheme != "" {
			v.add(p, "applies to https:// targets only, and these are %s://; remove it or use https:// targets", scheme)
		}
		return
	}
	if t.CA != "" {
		v.check(p+".ca", checkCAFile(t.CA))
	}
	switch {
	case (t.Cert == "") != (t.Key == ""):
		v.add(p, "a client certificate needs both cert and key (PEM files), or neither")
	case t.Cert != "":
		v.check(p+".cert", checkClientCert(t.Cert, t.Key, time.Now()))
	}
	if t.ServerName != "" {
		if msg := checkHost(t.ServerName); msg != "" || strings.HasPrefix(t.ServerName, "[") {
			v.add(p+".server_name", "%q is not a host name such as api.internal.example", t.ServerName)
		}
	}
	if t.InsecureSkipVerify && (t.CA != "" || t.ServerName != "") {
		v.add(p+".insecure_skip_verify", "turns verification off, so ca and server_name would be ignored; drop one or the other")
	}
}

// checkClientCert loads a client certificate and key: readable, matching,
// valid now, and usable for client authentication.
func checkClientCert(cert, key string, now time.Time) string {
	if msg := checkCertificate(Certificate{Cert: cert, Key: key}, now); msg != "" {
		return msg
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return fmt.Sprintf("certificate %s and key %s: %v", cert, key, err)
	}
	leaf := pair.Leaf
	if leaf == nil || len(leaf.ExtKeyUsage) == 0 {
		return ""
	}
	if slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageClientAuth) || slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny) {
		return ""
	}
	return fmt.Sprintf("certificate %s is not for client authentication (its extended key usage lacks clientAuth); targets will refuse it", cert)
}

// checkHashKey accepts client_ip, header:<Name> and cookie:<Name> (the
// HashKeyKinds).
func checkHashKey(k string) string {
	kind, name := SplitHashKey(k)
	named := strings.Contains(k, ":") && (kind == "header" || kind == "cookie")
	switch {
	case k == "client_ip":
		return ""
	case named && isToken(name):
		return ""
	case named:
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
	if r.Attempts < 1 || r.Attempts > MaxAttempts {
		v.add(p+".attempts", "must be from 1 to %d (1 disables retries), got %d", MaxAttempts, r.Attempts)
	}
	if !(r.Budget >= 0 && r.Budget <= 1) {
		v.add(p+".budget", "must be a fraction from 0 to 1, got %g", r.Budget)
	}
	if r.MinPerSecond < 0 {
		v.add(p+".min_per_second", "must not be negative, got %d", r.MinPerSecond)
	}
}
