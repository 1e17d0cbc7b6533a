// Package acme obtains and renews certificates automatically (RFC 8555)
// with certmagic: HTTP-01 and TLS-ALPN-01 challenges, storage that several
// instances may share, renewal ahead of expiry and OCSP stapling.
package acme

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gatehouse-proxy/gatehouse/config"
)

// Manager is the long-lived owner of ACME state; it outlives reloads.
// Safe for concurrent use.
type Manager struct {
	log *slog.Logger
}

// Plan is a prepared ACME configuration: checked and built, not yet in use.
type Plan struct{}

// NewManager returns a Manager managing nothing yet.
func NewManager(log *slog.Logger) *Manager { return &Manager{log: log} }

// Prepare checks cfg and builds what Use needs, without side effects (no
// network, no background work). baseDir resolves a relative storage path.
func (m *Manager) Prepare(cfg *config.ACME, baseDir string) (*Plan, error) {
	return nil, errors.New("acme: not implemented yet")
}

// Use starts managing p's domains (obtaining missing certificates in the
// background) and stops managing names p no longer lists. A nil p stops
// all management.
func (m *Manager) Use(p *Plan) {}

// GetCertificate returns the managed certificate for hello's server name,
// or the TLS-ALPN-01 challenge certificate when hello offers acme-tls/1.
// It returns (nil, nil) for names it does not manage.
func (m *Manager) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	return nil, nil
}

// HandleHTTPChallenge answers r if it is an HTTP-01 challenge request for
// a pending challenge and reports whether it did.
func (m *Manager) HandleHTTPChallenge(w http.ResponseWriter, r *http.Request) bool { return false }

// Covers reports whether host is one of the managed domains.
func (m *Manager) Covers(host string) bool { return false }

// Close stops all background work.
func (m *Manager) Close() {}
