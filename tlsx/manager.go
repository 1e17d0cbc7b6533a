// Package tlsx is the TLS side of Gatehouse's listeners: it loads and
// checks certificate files, picks a certificate per handshake by SNI
// (exact, then wildcard, then ACME), reloads files that change on disk,
// and builds each listener's tls.Config with secure defaults.
//
// OCSP: certificates from ACME are stapled by package acme (certmagic).
// PEM certificates are served without a staple: fetching one is a network
// call that Prepare must not make, and the largest public CA has stopped
// running OCSP responders altogether.
package tlsx

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gatehouse-proxy/gatehouse/acme"
)

// expiryWarning is how close to its expiry a certificate put in use is
// logged as a warning.
const expiryWarning = 14 * 24 * time.Hour

// Manager owns the certificates every TLS listener serves. It lives as
// long as the process, across reloads: each reload Prepares a Plan and,
// once the whole new configuration is accepted, Uses it. Safe for
// concurrent use.
type Manager struct {
	log  *slog.Logger
	acme *acme.Manager // nil: no ACME ever
	now  func() time.Time
	cur  atomic.Pointer[Plan]

	mu     sync.Mutex // serializes Use and Close
	watch  *watcher   // of cur's files; nil when there are none
	closed bool
}

// NewManager returns a Manager serving nothing until the first Use. log
// receives reloads and their failures (nil discards); acme may be nil, and
// then a configuration with ACME is refused by Prepare.
func NewManager(log *slog.Logger, acme *acme.Manager) *Manager {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Manager{log: log, acme: acme, now: time.Now}
}

// Use makes p the plan GetCertificate serves from, watches its files, and
// hands its ACME plan to the ACME manager (none stops ACME management).
// A nil p serves nothing. Use after Close does nothing.
func (m *Manager) Use(p *Plan) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	if m.watch != nil {
		m.watch.close()
		m.watch = nil
	}
	m.cur.Store(p)
	var ap *acme.Plan
	if p != nil {
		ap = p.acme
		if len(p.certs) > 0 {
			m.watch = m.startWatch(p)
		}
		m.warnExpiring(p)
	}
	if m.acme != nil {
		m.acme.Use(ap)
	}
}

func (m *Manager) warnExpiring(p *Plan) {
	now := m.now()
	for _, s := range p.certs {
		leaf := s.cur.Load().cert.Leaf
		if left := leaf.NotAfter.Sub(now); left < expiryWarning {
			m.log.Warn("certificate expires soon; renew it", "cert", s.files.cert,
				"not_after", leaf.NotAfter, "days_left", int(left.Hours()/24))
		}
	}
}

// Current returns the plan in use, nil before the first Use.
func (m *Manager) Current() *Plan { return m.cur.Load() }

// Close stops watching files and closes the ACME manager. Handshakes after
// Close still get the last plan's certificates.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	m.closed = true
	if m.watch != nil {
		m.watch.close()
		m.watch = nil
	}
	if m.acme != nil {
		m.acme.Close()
	}
}

// HandleHTTPChallenge answers r if it is a pending ACME HTTP-01 challenge
// and reports whether it did.
func (m *Manager) HandleHTTPChallenge(w http.ResponseWriter, r *http.Request) bool {
	return m.acme != nil && m.acme.HandleHTTPChallenge(w, r)
}

// GetCertificate picks the certificate for a handshake, for
// tls.Config.GetCertificate: the ACME challenge certificate when the
// client offers acme-tls/1; else by server name (case-insensitive, trailing
// dot ignored) an exact PEM name, a wildcard PEM name covering exactly the
// first label, or an ACME domain; for a client sending no name (or an IP
// address), the first PEM certificate listing the local address, else the
// first PEM certificate. It does not allocate when a certificate is found.
func (m *Manager) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if m.acme != nil && slices.Contains(hello.SupportedProtos, acme.ALPNProto) {
		c, err := m.acme.GetCertificate(hello)
		if c == nil && err == nil {
			err = fmt.Errorf("no ACME challenge pending for %s", hello.ServerName)
		}
		return c, err
	}
	p := m.cur.Load()
	if p == nil {
		return nil, errors.New("no certificates configured yet")
	}
	ix := p.idx.Load()
	name := normalize(hello.ServerName)
	ip, isIP := ipLiteral(name)
	if name != "" && !isIP {
		if c := ix.byName(name); c != nil {
			return c, nil
		}
		return m.acmeCertificate(p, name, hello)
	}
	if c := ix.ips[localAddr(hello)]; c != nil {
		return c, nil
	}
	if c := ix.ips[ip]; isIP && c != nil {
		return c, nil
	}
	if ix.first != nil {
		return ix.first, nil
	}
	if name == "" {
		return nil, errors.New("no certificate for a client sending no server name (SNI)")
	}
	return nil, fmt.Errorf("no certificate for %s", name)
}

func (m *Manager) acmeCertificate(p *Plan, name string, hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if _, ok := p.acmeNames[name]; !ok || m.acme == nil {
		return nil, fmt.Errorf("no certificate for %s", name)
	}
	c, err := m.acme.GetCertificate(hello)
	if c == nil && err == nil {
		err = fmt.Errorf("no certificate for %s yet: ACME has not obtained it", name)
	}
	return c, err
}

// localAddr is the address the client connected to, or the zero Addr.
func localAddr(hello *tls.ClientHelloInfo) netip.Addr {
	if hello.Conn == nil {
		return netip.Addr{}
	}
	switch a := hello.Conn.LocalAddr().(type) {
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}
