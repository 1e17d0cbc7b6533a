package gateway

import (
	"fmt"
	"net/url"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/proxy"
	"github.com/gatehouse-proxy/gatehouse/transport"
	"github.com/gatehouse-proxy/gatehouse/upstream"
)

// compilePool builds the pool for the validated upstream u called name,
// and the options of the forwarder that reaches its targets. The tls
// files are read once, for both the forwarder and the active probes, so
// probes are judged over the same kind of connection as the traffic.
// Errors are the ones validation cannot foresee (a file that changed since)
// and name the setting.
func compilePool(name string, u *config.Upstream, env *Env) (*upstream.Pool, proxy.TransportOptions, error) {
	scheme := targetScheme(u)
	var tlsData *transport.TLS
	if scheme == upstream.SchemeHTTPS {
		var err error
		if tlsData, err = transport.LoadTLS(transportTLS(&u.TLS)); err != nil {
			return nil, proxy.TransportOptions{}, err
		}
	}
	spec, err := poolSpec(u)
	if err != nil {
		return nil, proxy.TransportOptions{}, err
	}
	o := upstream.Options{Logger: env.Log, Observer: env.HealthObserver}
	if a := u.Health.Active; a != nil {
		tc, err := tlsData.ClientConfig() // nil tlsData: the defaults
		if err != nil {
			return nil, proxy.TransportOptions{}, err
		}
		o.Client = transport.ProbeClient(scheme, tc, a.Timeout.D())
	}
	p, err := upstream.Build(name, spec, env.Store, o)
	if err != nil {
		return nil, proxy.TransportOptions{}, err
	}
	return p, transportOptions(u, scheme, tlsData), nil
}

// poolSpec maps a validated upstream to what upstream.Build takes. Names
// config validated map one to one onto upstream's (names_test.go checks
// the lists are equal), so a miss here is a bug, reported as an error.
func poolSpec(u *config.Upstream) (upstream.Spec, error) {
	s := upstream.Spec{
		Sticky: upstream.StickyCookie{Name: u.Sticky.Cookie, MaxAge: u.Sticky.MaxAge.D(), Secure: u.Sticky.Secure},
		Passive: upstream.Passive{
			MaxFails:   u.Health.Passive.MaxFails,
			Cooldown:   u.Health.Passive.Cooldown.D(),
			FailStatus: u.Health.Passive.FailStatus,
		},
		Retry:              upstream.Retry{Attempts: u.Retry.Attempts, Budget: u.Retry.Budget, MinPerSecond: u.Retry.MinPerSecond},
		InsecureSkipVerify: u.TLS.InsecureSkipVerify,
	}
	for _, t := range u.Targets {
		s.Targets = append(s.Targets, upstream.TargetSpec{URL: t.URL, Weight: t.Weight})
	}
	var ok bool
	if s.Balance, ok = upstream.BalanceByName(u.Balance); !ok {
		return s, fmt.Errorf("balance %q: not a policy of package upstream", u.Balance)
	}
	kind, keyName := config.SplitHashKey(u.HashKey)
	if s.HashKey.Kind, ok = upstream.KeyKindByName(kind); !ok {
		return s, fmt.Errorf("hash_key %q: not a key kind of package upstream", u.HashKey)
	}
	s.HashKey.Name = keyName
	if a := u.Health.Active; a != nil {
		expect, err := config.ParseStatusSet(a.ExpectStatus)
		if err != nil {
			return s, fmt.Errorf("health.active.expect_status: %w", err)
		}
		s.Active = &upstream.Active{
			Path:               a.Path,
			Host:               a.Host,
			Interval:           a.Interval.D(),
			Timeout:            a.Timeout.D(),
			ExpectStatus:       expect,
			HealthyThreshold:   a.HealthyThreshold,
			UnhealthyThreshold: a.UnhealthyThreshold,
		}
	}
	return s, nil
}

// targetScheme is the scheme all of u's targets share (config checked
// that they do), as upstream.Build will find it; "" if there is none.
func targetScheme(u *config.Upstream) string {
	if len(u.Targets) == 0 {
		return ""
	}
	t, err := url.Parse(u.Targets[0].URL)
	if err != nil {
		return ""
	}
	return t.Scheme
}

// transportTLS is the tls block as transport settings, files not yet read.
func transportTLS(t *config.UpstreamTLS) transport.TLS {
	return transport.TLS{
		CAFile:             t.CA,
		ServerName:         t.ServerName,
		CertFile:           t.Cert,
		KeyFile:            t.Key,
		InsecureSkipVerify: t.InsecureSkipVerify,
	}
}
