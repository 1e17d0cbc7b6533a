// Package acme obtains and renews certificates automatically (RFC 8555)
// with certmagic: HTTP-01 and TLS-ALPN-01 challenges, storage that several
// instances may share, renewal ahead of expiry and OCSP stapling.
//
// Gatehouse answers the challenges on its own listeners: plain listeners
// pass /.well-known/acme-challenge/ requests to HandleHTTPChallenge, TLS
// listeners offer the acme-tls/1 protocol and take their certificates from
// GetCertificate. Instances sharing a storage directory coordinate through
// certmagic's lock files there, so only one asks the CA for a given name
// and any of them can answer its challenges.
package acme

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
)

// ALPNProto is the ALPN protocol of the TLS-ALPN-01 challenge (RFC 8737);
// a TLS listener offers it to answer challenges in its handshakes.
const ALPNProto = "acme-tls/1"

// Manager is the long-lived owner of ACME state; it outlives reloads: one
// certmagic certificate cache, whose maintenance goroutine renews
// certificates, and the configuration of the Plan in use. Safe for
// concurrent use.
type Manager struct {
	log  *slog.Logger
	zlog *zap.Logger
	cur  atomic.Pointer[active] // nil: managing nothing

	mu     sync.Mutex       // serializes Use and Close
	cache  *certmagic.Cache // created by the first non-nil Use
	every  time.Duration    // cache's renew check interval, fixed when created
	hold   *placeholder     // created with cache; nil if it could not bind
	closed bool
}

// active is a Plan in use.
type active struct {
	plan   *Plan
	cache  *certmagic.Cache
	magic  *certmagic.Config
	issuer *certmagic.ACMEIssuer
	cancel context.CancelFunc // ends this plan's obtain attempts
}

// NewManager returns a Manager managing nothing yet. log receives each
// certificate obtained, renewed or failed, and certmagic's own lines at
// debug level (nil discards).
func NewManager(log *slog.Logger) *Manager {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{log: log, zlog: zapLogger(log)}
}

// Use starts managing p's domains (obtaining missing certificates in the
// background) and stops managing names p no longer lists. A nil p stops
// all management. A p equal to the plan in use changes nothing, so a
// reload does not restart pending attempts. A changed directory or
// storage re-manages every name: certificates are loaded from the new
// storage, or obtained from the new CA. The renew check interval is fixed
// when the first plan is used; a later change is logged and applies after
// a restart. Use after Close does nothing.
func (m *Manager) Use(p *Plan) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	old := m.cur.Load()
	if old != nil && p != nil && old.plan.equal(p) {
		return
	}
	var next *active
	ctx := context.Background()
	if p != nil {
		m.ensureCache(p.renewEvery)
		next, ctx = m.activate(p)
	}
	m.cur.Store(next)
	if old != nil {
		old.cancel()
		// Before ManageAsync, which skips names still in the cache.
		old.cache.RemoveManaged(dropped(old.plan, p))
	}
	if next != nil {
		// Its errors are about starting; obtain failures are events.
		if err := next.magic.ManageAsync(ctx, p.domains); err != nil {
			m.log.Error("acme management failed to start", "error", err)
		}
	}
}

func (m *Manager) ensureCache(every time.Duration) {
	if m.cache != nil {
		if every != m.every {
			m.log.Warn("acme renew_check_interval change applies after a restart",
				"in_use", m.every.String(), "configured", every.String())
		}
		return
	}
	hold, err := newPlaceholder()
	if err != nil {
		m.log.Warn("acme could not reserve a loopback port; certmagic may bind ports 80 and 443 itself during challenges", "error", err)
	}
	m.hold = hold
	m.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert:   m.configFor,
		RenewCheckInterval: every,
		Logger:             m.zlog,
	})
	m.every = every
}

// configFor tells the cache's maintenance how to renew a certificate: with
// the configuration in use now, so renewals follow reloads.
func (m *Manager) configFor(certmagic.Certificate) (*certmagic.Config, error) {
	if a := m.cur.Load(); a != nil {
		return a.magic, nil
	}
	return nil, errors.New("acme: no configuration in use")
}

// activate builds p's certmagic configuration, and the context that ends
// its obtain attempts when it is replaced.
func (m *Manager) activate(p *Plan) (*active, context.Context) {
	storage := p.storage
	magic := certmagic.New(m.cache, certmagic.Config{
		Storage: &certmagic.FileStorage{Path: storage},
		OCSP:    certmagic.OCSPConfig{DisableStapling: !p.ocsp},
		OnEvent: func(_ context.Context, event string, data map[string]any) error {
			return m.onEvent(storage, event, data)
		},
		ShouldEmitFunc: shouldEmit,
		Logger:         m.zlog,
	})
	template := certmagic.ACMEIssuer{
		CA:                      p.directory,
		Email:                   p.email,
		Agreed:                  true,
		TrustedRoots:            p.roots,
		DisableHTTPChallenge:    !p.http01,
		DisableTLSALPNChallenge: !p.tlsALPN01,
		Logger:                  m.zlog,
	}
	if m.hold != nil {
		template.ListenHost = placeholderHost
		template.AltHTTPPort, template.AltTLSALPNPort = m.hold.port(), m.hold.port()
	}
	issuer := certmagic.NewACMEIssuer(magic, template)
	magic.Issuers = []certmagic.Issuer{issuer}
	ctx, cancel := context.WithCancel(context.Background())
	return &active{plan: p, cache: m.cache, magic: magic, issuer: issuer, cancel: cancel}, ctx
}

// dropped lists the subjects old manages that next does not: all of them
// when next is nil or takes certificates from another CA or storage.
func dropped(old, next *Plan) []certmagic.SubjectIssuer {
	var out []certmagic.SubjectIssuer
	for _, d := range old.domains {
		if next == nil || !next.sameSource(old) || !next.covers(d) {
			out = append(out, certmagic.SubjectIssuer{Subject: d})
		}
	}
	return out
}

// GetCertificate returns the managed certificate for hello's server name,
// or the TLS-ALPN-01 challenge certificate when hello offers acme-tls/1.
// It returns (nil, nil) for names it does not manage, and for a managed
// name whose certificate has not been obtained yet. It never starts an
// issuance.
func (m *Manager) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	a := m.cur.Load()
	if a == nil {
		return nil, nil
	}
	name := normalize(hello.ServerName)
	if !a.plan.covers(name) {
		return nil, nil
	}
	if !slices.Contains(hello.SupportedProtos, ALPNProto) && len(a.cache.AllMatchingCertificates(name)) == 0 {
		return nil, nil
	}
	return a.magic.GetCertificate(hello)
}

// HandleHTTPChallenge answers r if it is an HTTP-01 challenge request for
// a pending challenge and reports whether it did.
func (m *Manager) HandleHTTPChallenge(w http.ResponseWriter, r *http.Request) bool {
	a := m.cur.Load()
	if a == nil || !a.plan.http01 || !certmagic.LooksLikeHTTPChallenge(r) || !a.plan.covers(hostOnly(r.Host)) {
		return false
	}
	return a.issuer.HandleHTTPChallenge(w, r)
}

// Covers reports whether host (a name, or host:port) is one of the managed
// domains, ignoring case and a trailing dot.
func (m *Manager) Covers(host string) bool {
	a := m.cur.Load()
	return a != nil && a.plan.covers(hostOnly(host))
}

// Close stops all background work: obtain attempts and the maintenance
// that renews certificates. Handshakes after Close still get the
// certificates already loaded. Use after Close does nothing.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	m.closed = true
	if a := m.cur.Load(); a != nil {
		a.cancel()
	}
	if m.cache != nil {
		m.cache.Stop()
	}
	if m.hold != nil {
		m.hold.close()
	}
}

func (p *Plan) covers(name string) bool {
	_, ok := p.names[normalize(name)]
	return ok
}

// sameSource reports whether p and q take certificates from the same CA
// and storage, so a certificate managed under one is valid under the other.
func (p *Plan) sameSource(q *Plan) bool {
	return p.directory == q.directory && p.storage == q.storage
}

func (p *Plan) equal(q *Plan) bool {
	return p.sameSource(q) && slices.Equal(p.domains, q.domains) && p.email == q.email &&
		p.http01 == q.http01 && p.tlsALPN01 == q.tlsALPN01 && p.renewEvery == q.renewEvery &&
		p.ocsp == q.ocsp && poolsEqual(p.roots, q.roots)
}

func poolsEqual(a, b *x509.CertPool) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(b)
}

// hostOnly drops a port from host, if it has one.
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}
