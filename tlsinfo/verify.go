// Package tlsinfo answers questions about the TLS connection a request
// arrived on: the protocol facts of its handshake (version, cipher, SNI,
// ALPN, the client certificate's names) and whether the client's
// certificate verifies against a CA pool.
//
// Client certificates are verified here rather than only in the handshake
// because a listener in "request" mode accepts any certificate (a
// mismatched one is passed on as unverified) and a route may require a CA
// of its own. Verification is cached per connection: a keep-alive or
// HTTP/2 connection pays for it once per CA pool, not once per request.
// For that the server calls ConnContext for every connection of a TLS
// listener; request contexts derive from the connection's context in
// net/http (HTTP/1.1 and HTTP/2) and in quic-go's HTTP/3 server.
package tlsinfo

import (
	"context"
	"crypto/x509"
	"net/http"
	"sync"
	"time"
)

// conn is the per-connection state ConnContext stores. It lives as long as
// the connection; mu guards results, which hold one entry per CA pool
// asked about (in practice one or two).
type conn struct {
	ca *x509.CertPool

	mu            sync.Mutex
	results       []result
	subject       string // the client certificate's subject, once asked for
	verifications int    // chain verifications run, for tests
}

// result is the cached outcome of verifying the connection's client
// certificate against pool. A successful result holds until the chain's
// first certificate expires.
type result struct {
	pool  *x509.CertPool
	ok    bool
	until time.Time
}

type connKey struct{}

// ConnContext returns ctx carrying the state Verified uses for one TLS
// connection. clientCA is the pool the listener verifies client
// certificates with, nil when it has none. Call it from
// http.Server.ConnContext (and http3.Server.ConnContext) for each
// connection of a TLS listener.
func ConnContext(ctx context.Context, clientCA *x509.CertPool) context.Context {
	return context.WithValue(ctx, connKey{}, &conn{ca: clientCA})
}

// Verified reports whether the client presented a certificate chain that
// verifies, now, against pool for client authentication
// (ExtKeyUsageClientAuth). A nil pool means the listener's CA as given to
// ConnContext; without one (no CA on the listener, or ConnContext never
// called) only a chain the handshake itself verified counts. A chain the
// handshake verified is trusted for the listener's CA without more work;
// any other verification runs once per connection and pool. Plain HTTP
// requests are never verified. Safe for concurrent use.
func Verified(r *http.Request, pool *x509.CertPool) bool {
	cs := r.TLS
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return false
	}
	c, _ := r.Context().Value(connKey{}).(*conn)
	listenerCA := pool == nil || c != nil && pool == c.ca
	if listenerCA && len(cs.VerifiedChains) > 0 {
		return !time.Now().After(chainExpiry(cs.VerifiedChains[0]))
	}
	if pool == nil && c != nil {
		pool = c.ca
	}
	if pool == nil {
		return false
	}
	if c == nil {
		ok, _ := verify(cs.PeerCertificates, pool, time.Now())
		return ok
	}
	return c.verified(cs.PeerCertificates, pool)
}

// VerifiedSubject returns the client certificate's subject in RFC 2253
// form when Verified(r, nil), "" otherwise. The string is made once per
// connection.
func VerifiedSubject(r *http.Request) string {
	if !Verified(r, nil) {
		return ""
	}
	c, _ := r.Context().Value(connKey{}).(*conn)
	if c == nil {
		return ClientSubject(r.TLS)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subject == "" {
		c.subject = ClientSubject(r.TLS)
	}
	return c.subject
}

// verified returns the cached result for pool, verifying on a miss. The
// lock is held while verifying so that concurrent HTTP/2 streams wait for
// one verification instead of each running their own.
func (c *conn) verified(chain []*x509.Certificate, pool *x509.CertPool) bool {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.results {
		if res := &c.results[i]; res.pool == pool {
			if res.ok && now.After(res.until) {
				res.ok = false // expired while the connection was open
			}
			return res.ok
		}
	}
	c.verifications++
	ok, until := verify(chain, pool, now)
	c.results = append(c.results, result{pool: pool, ok: ok, until: until})
	return ok
}

// verify checks the client's chain (leaf first, then any intermediates it
// sent) against roots at time now, and returns when the verified chain
// stops being valid.
func verify(peer []*x509.Certificate, roots *x509.CertPool, now time.Time) (bool, time.Time) {
	opts := x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if len(peer) > 1 {
		opts.Intermediates = x509.NewCertPool()
		for _, cert := range peer[1:] {
			opts.Intermediates.AddCert(cert)
		}
	}
	chains, err := peer[0].Verify(opts)
	if err != nil || len(chains) == 0 {
		return false, time.Time{}
	}
	return true, chainExpiry(chains[0])
}

// chainExpiry is the earliest NotAfter in chain: the moment it stops
// verifying.
func chainExpiry(chain []*x509.Certificate) time.Time {
	var until time.Time
	for i, cert := range chain {
		if i == 0 || cert.NotAfter.Before(until) {
			until = cert.NotAfter
		}
	}
	return until
}
