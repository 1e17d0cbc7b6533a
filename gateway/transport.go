package gateway

import (
	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/proxy"
	"github.com/gatehouse-proxy/gatehouse/upstream"
)

// transportOptions maps an upstream's connection settings to the
// forwarder's options. For https targets it reads the tls files (CA,
// client certificate and key) into the options, so that Env keeps a
// forwarder, and its pooled connections, exactly while their contents
// are unchanged. Errors name the file.
func transportOptions(u *config.Upstream) (proxy.TransportOptions, error) {
	o := proxy.TransportOptions{
		DialTimeout:           u.DialTimeout.D(),
		ResponseHeaderTimeout: u.ResponseHeaderTimeout.D(),
		IdleConnTimeout:       u.IdleConnTimeout.D(),
		MaxIdleConns:          u.MaxIdleConns,
		MaxConns:              u.MaxConns,
		UpgradeIdleTimeout:    u.UpgradeIdleTimeout.D(),
		SendTimeout:           u.SendTimeout.D(),
		ReadTimeout:           u.ReadTimeout.D(),
	}
	scheme, err := upstream.Scheme(u)
	if err != nil {
		return o, err
	}
	o.Scheme = scheme
	if scheme == upstream.SchemeHTTPS {
		if o.TLS, err = upstream.LoadTLS(&u.TLS); err != nil {
			return o, err
		}
	}
	return o, nil
}
