package gateway

import (
	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/proxy"
	"github.com/gatehouse-proxy/gatehouse/transport"
)

// transportOptions maps an upstream's connection settings to the
// forwarder's options, for targets of scheme reached with tls (the files
// already read, see compilePool; nil for targets that are not https). The
// file contents are part of the options, so that Env keeps a forwarder,
// and its pooled connections, exactly while they are unchanged.
func transportOptions(u *config.Upstream, scheme string, tls *transport.TLS) proxy.TransportOptions {
	return proxy.TransportOptions{
		DialTimeout:           u.DialTimeout.D(),
		ResponseHeaderTimeout: u.ResponseHeaderTimeout.D(),
		IdleConnTimeout:       u.IdleConnTimeout.D(),
		MaxIdleConns:          u.MaxIdleConns,
		MaxConns:              u.MaxConns,
		UpgradeIdleTimeout:    u.UpgradeIdleTimeout.D(),
		SendTimeout:           u.SendTimeout.D(),
		ReadTimeout:           u.ReadTimeout.D(),
		Scheme:                scheme,
		TLS:                   tls,
	}
}
