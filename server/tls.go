package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"reflect"
	"strconv"

	"github.com/gatehouse-proxy/gatehouse/acme"
	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/gateway"
	"github.com/gatehouse-proxy/gatehouse/tlsinfo"
	"github.com/gatehouse-proxy/gatehouse/tlsx"
)

// plan is one listener's settings compiled before a config is applied, so
// that anything wrong (an unreadable CA bundle) refuses the whole config.
type plan struct {
	cfg       config.Listener
	tls       *tls.Config // nil for a plain listener
	h3tls     *tls.Config // for HTTP/3; nil without it
	clientCAs *x509.CertPool
	caPEM     []byte // client CA file content, to notice a changed file
}

// prepare compiles the listeners' TLS settings.
func (s *Server) prepare(ls []config.Listener) (map[string]*plan, error) {
	plans := make(map[string]*plan, len(ls))
	get := s.env.TLS.GetCertificate
	for _, lc := range ls {
		p := &plan{cfg: lc}
		plans[lc.Address] = p
		if lc.TLS == nil {
			continue
		}
		protos := []string{"http/1.1", acme.ALPNProto}
		if lc.TLS.HTTP2 {
			protos = append([]string{"h2"}, protos...)
		}
		var err error
		if p.tls, p.clientCAs, err = tlsx.ServerConfig(lc.TLS, get, protos, ""); err != nil {
			return nil, listenerError(lc, err)
		}
		if lc.HTTP3 {
			if p.h3tls, _, err = tlsx.ServerConfig(lc.TLS, get, []string{"h3"}, ""); err != nil {
				return nil, listenerError(lc, err)
			}
		}
		if ca := lc.TLS.ClientAuth; ca != nil && ca.CA != "" {
			if p.caPEM, err = os.ReadFile(ca.CA); err != nil {
				return nil, listenerError(lc, err)
			}
		}
	}
	return plans, nil
}

// same reports whether p needs no new http.Server to replace one serving q.
func (p *plan) same(q *plan) bool {
	return q != nil && reflect.DeepEqual(p.cfg, q.cfg) && bytes.Equal(p.caPEM, q.caPEM)
}

// sameClientAuth reports whether p checks client certificates as q does.
func (p *plan) sameClientAuth(q *plan) bool {
	var a, b *config.ClientAuth
	if p.cfg.TLS != nil {
		a = p.cfg.TLS.ClientAuth
	}
	if q.cfg.TLS != nil {
		b = q.cfg.TLS.ClientAuth
	}
	return reflect.DeepEqual(a, b) && bytes.Equal(p.caPEM, q.caPEM)
}

// connContext returns a listener's connection context: every
// connection's carries the listener, and on TLS listeners the
// per-connection state client certificate checks use.
func (s *Server) connContext(p *plan) func(context.Context) context.Context {
	li := &gateway.Listener{Name: p.cfg.Name, RedirectHTTPS: p.cfg.RedirectHTTPS && p.tls == nil, HTTPSPort: s.HTTPSPort}
	return func(ctx context.Context) context.Context {
		ctx = gateway.WithListener(ctx, li)
		if p.tls != nil {
			ctx = tlsinfo.ConnContext(ctx, p.clientCAs)
		}
		return ctx
	}
}

// HTTPSPort returns the port of the first TLS listener, where plain HTTP
// requests are redirected; "" when there is none.
func (s *Server) HTTPSPort() string {
	if p := s.httpsPort.Load(); p != nil {
		return *p
	}
	return ""
}

// setHTTPSPort records the first TLS listener's bound port; the caller
// holds s.mu.
func (s *Server) setHTTPSPort(ls []config.Listener) {
	port := ""
	for _, lc := range ls {
		if l, ok := s.listeners[lc.Address]; ok && lc.TLS != nil {
			port = strconv.Itoa(l.sock.ln.Addr().(*net.TCPAddr).Port)
			break
		}
	}
	s.httpsPort.Store(&port)
}
