package config

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gatehouse-proxy/gatehouse/middleware/auth"
)

// JWTOptions are the JWT method a jwt block describes, its key files
// read. The key set (jwks) is not in them: it outlives a runtime and is
// made by whoever keeps it (KeySetOptions).
func JWTOptions(a *JWTAuth) (auth.JWTOptions, error) {
	o := auth.JWTOptions{
		Realm:          a.Realm,
		Algorithms:     a.Algorithms,
		Issuers:        a.Issuers,
		Audiences:      a.Audiences,
		RequireClaims:  a.RequireClaims,
		ExpOptional:    a.ExpOptional,
		UserClaim:      a.UserClaim,
		Cookie:         a.Cookie,
		Query:          a.Query,
		TrustedOrigins: a.TrustedOrigins,
		Forward:        a.Forward,
		Leeway:         -1,
	}
	if a.Leeway > 0 {
		o.Leeway = a.Leeway.D()
	}
	o.CacheFor = -1
	if a.CacheFor > 0 {
		o.CacheFor = a.CacheFor.D()
	}
	for i, k := range a.Keys {
		key, err := jwtKey(k)
		if err != nil {
			return o, fmt.Errorf("keys[%d]: %w", i, err)
		}
		o.Keys = append(o.Keys, key)
	}
	return o, nil
}

// jwtKey reads one fixed key.
func jwtKey(k JWTKey) (auth.JWTKey, error) {
	key := auth.JWTKey{ID: k.KID, Algorithms: k.Algorithms}
	n := 0
	for _, s := range []string{k.File, k.Secret, k.SecretFile} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return key, errors.New("give exactly one of file (a PEM public key), secret and secret_file")
	}
	switch {
	case k.File != "":
		data, err := os.ReadFile(k.File)
		if err != nil {
			return key, fmt.Errorf("cannot read the key file: %w", err)
		}
		key.PEM = data
	case k.Secret != "":
		key.Secret = []byte(k.Secret)
	default:
		data, err := os.ReadFile(k.SecretFile)
		if err != nil {
			return key, fmt.Errorf("cannot read the secret file: %w", err)
		}
		key.Secret = []byte(strings.TrimRight(string(data), "\r\n"))
	}
	return key, nil
}

// KeySetOptions are the fetching settings of a jwks block, its CA read.
func KeySetOptions(j *JWKS) (auth.JWKSOptions, error) {
	o := auth.JWKSOptions{
		URL:          j.URL,
		Timeout:      j.Timeout.D(),
		Refresh:      j.Refresh.D(),
		MinRefresh:   j.MinRefresh.D(),
		MaxRefresh:   j.MaxRefresh.D(),
		MissInterval: j.MissInterval.D(),
		Wait:         j.Wait.D(),
	}
	if j.CA != "" {
		var err error
		if o.RootCAs, err = readCAPool(j.CA); err != nil {
			return o, err
		}
	}
	return o, nil
}

// jwtAuth checks a jwt block with the parser the method itself uses, so
// what validate accepts always builds.
func (v *checker) jwtAuth(p string, a *JWTAuth) {
	if len(a.Keys) == 0 && a.JWKS == nil {
		v.add(p, "has no keys; give it keys: [{file: <PEM public key>}] or jwks: {url: <the IdP's jwks_uri>}")
	}
	for i, k := range a.Keys {
		kp := fmt.Sprintf("%s.keys[%d]", p, i)
		key, err := jwtKey(k)
		if err == nil {
			err = auth.CheckJWT(auth.JWTOptions{Keys: []auth.JWTKey{key}})
		}
		if err != nil {
			v.add(kp, "%s", strings.TrimPrefix(strings.TrimPrefix(err.Error(), "jwt: "), fmt.Sprintf("key 1 (%q): ", k.KID)))
		}
	}
	if a.Leeway < 0 {
		v.add(p+".leeway", "must not be negative; 0s allows no clock skew")
	}
	if a.CacheFor < 0 || a.CacheFor > Duration(time.Hour) {
		v.add(p+".cache_for", "must be between 0s (never remember) and 1h: a key the IdP withdraws keeps admitting remembered tokens that long")
	}
	if len(a.RequireClaims) > 0 {
		for c, want := range a.RequireClaims {
			if len(want) == 0 {
				v.add(p+".require_claims."+c, "lists no values; give the values of which the claim must hold one")
			}
		}
	}
	for _, s := range []string{a.Cookie, a.Query} {
		if s != "" && !isToken(s) {
			v.add(p, "%q is not a valid cookie or parameter name", s)
		}
	}
	// The options besides the keys, each on its own so that every
	// problem is told.
	for _, o := range []auth.JWTOptions{{Algorithms: a.Algorithms}, {Cookie: a.Cookie, Query: a.Query, TrustedOrigins: a.TrustedOrigins}} {
		o.Keys = []auth.JWTKey{{Secret: make([]byte, 64)}}
		if err := auth.CheckJWT(o); err != nil {
			v.add(p, "%s", strings.TrimPrefix(err.Error(), "jwt: "))
		}
	}
	if a.JWKS != nil {
		v.jwks(p+".jwks", a.JWKS)
	}
}

func (v *checker) jwks(p string, j *JWKS) {
	u, err := url.Parse(j.URL)
	switch {
	case j.URL == "":
		v.add(p+".url", "is required: the IdP's jwks_uri (see its /.well-known/openid-configuration)")
	case err != nil || u.Host == "":
		v.add(p+".url", "%q is not an absolute URL", j.URL)
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	case u.Scheme == "http":
		v.add(p+".url", "%q is plain http: anyone on the path could hand Gatehouse their own keys; use https (plain http only to a loopback address)", j.URL)
	default:
		v.add(p+".url", "%q: the scheme must be https", j.URL)
	}
	if j.CA != "" {
		v.check(p+".ca", checkCAFile(j.CA))
	}
	if j.MinRefresh > j.MaxRefresh {
		v.add(p+".min_refresh", "is longer than max_refresh (%v)", j.MaxRefresh)
	}
	for _, d := range []struct {
		key string
		d   Duration
	}{{"timeout", j.Timeout}, {"refresh", j.Refresh}, {"min_refresh", j.MinRefresh}, {"max_refresh", j.MaxRefresh}, {"miss_interval", j.MissInterval}, {"wait", j.Wait}} {
		if d.d < 0 {
			v.add(p+"."+d.key, "must be positive")
		}
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// readCAPool reads a PEM bundle of authorities to verify a server with.
func readCAPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}
