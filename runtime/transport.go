package runtime

import (
	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/proxy"
)

// transportOptions maps an upstream's connection settings to the
// forwarder's options.
func transportOptions(u *config.Upstream) (proxy.TransportOptions, error) {
	return proxy.TransportOptions{
		DialTimeout:           u.DialTimeout.D(),
		ResponseHeaderTimeout: u.ResponseHeaderTimeout.D(),
		IdleConnTimeout:       u.IdleConnTimeout.D(),
		MaxIdleConns:          u.MaxIdleConns,
		MaxConns:              u.MaxConns,
		UpgradeIdleTimeout:    u.UpgradeIdleTimeout.D(),
		SendTimeout:           u.SendTimeout.D(),
		ReadTimeout:           u.ReadTimeout.D(),
	}, nil
}
