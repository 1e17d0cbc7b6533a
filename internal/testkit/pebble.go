package testkit

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/miekg/dns"
)

// ProcessLifetime reports whether a goroutine's stack is one that a
// library keeps until the process exits, by design, so leak checks should
// ignore it: each Pebble's validation queue (Pebble offers no way to stop
// it) and certmagic's rate limiter, one per CA and account, shared by
// every certmagic configuration in the process.
func ProcessLifetime(stack string) bool {
	return strings.Contains(stack, "pebble/v2/va.VAImpl.processTasks") ||
		strings.Contains(stack, "certmagic.(*RingBufferRateLimiter).loop")
}

// pebbleNewOrderPath is Pebble's newOrder endpoint (unexported there).
const pebbleNewOrderPath = "/order-plz"

// PebbleOptions configure StartPebble.
type PebbleOptions struct {
	// HTTPPort and TLSPort are where Pebble validates http-01 and
	// tls-alpn-01 challenges, on 127.0.0.1 (every name resolves there).
	HTTPPort, TLSPort int
	// ValidityPeriod is the lifetime of issued certificates, in whole
	// seconds; zero is Pebble's default, 90 days.
	ValidityPeriod time.Duration
}

// Pebble is Let's Encrypt's test ACME server, run in-process on loopback:
// its web front end (ACME over HTTPS), CA and validation authority, and a
// DNS server answering 127.0.0.1 for every name, so any test domain (such
// as "site.test") validates against the ports given to Start. Validation
// does not sleep, no good nonce is rejected and authorizations are never
// reused, so every order validates afresh.
type Pebble struct {
	// Directory is the ACME directory URL, https://127.0.0.1:PORT/dir.
	Directory string
	// CARootFile is a PEM file of the root that signs Pebble's HTTPS
	// certificate: config's tls.acme.ca_root.
	CARootFile string
	// IssuerRoot is the root of the certificates Pebble issues (Pebble
	// also serves it at /roots/0 on its management interface), written to
	// IssuerRootFile; IssuerPool trusts it. Set by Start.
	IssuerRoot     *x509.Certificate
	IssuerRootFile string
	IssuerPool     *x509.CertPool

	t        testing.TB
	validity time.Duration
	dnsAddr  string
	logs     Logs
	ready    chan struct{} // closed by Start, once handler is set
	handler  http.Handler
	orders   atomic.Int64
	started  bool
}

// StartPebble starts Pebble validating challenges on o's ports. It stops
// when the test ends; if the test failed, Pebble's log is written to the
// test log.
func StartPebble(t testing.TB, o PebbleOptions) *Pebble {
	t.Helper()
	p := NewPebble(t, o.ValidityPeriod)
	p.Start(o.HTTPPort, o.TLSPort)
	return p
}

// NewPebble binds Pebble's HTTPS listener, so Directory is known before
// the ports to validate on are: requests wait until Start. This lets a
// test configure Gatehouse with Directory first and give Pebble the ports
// Gatehouse bound afterwards.
func NewPebble(t testing.TB, validity time.Duration) *Pebble {
	t.Helper()
	p := &Pebble{t: t, validity: validity, ready: make(chan struct{})}
	p.dnsAddr = startLoopbackDNS(t)
	wfeCA := NewCA(t, "Pebble HTTPS test root")
	leaf := wfeCA.Issue([]string{"127.0.0.1", "localhost"}, LeafOptions{})
	p.CARootFile = wfeCA.CertFile

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pebble: listen: %v", err)
	}
	p.Directory = "https://" + ln.Addr().String() + wfe.DirectoryPath
	srv := &http.Server{
		Handler:   http.HandlerFunc(p.serveHTTP),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{leaf.TLS}},
		ErrorLog:  log.New(io.Discard, "", 0),
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		_ = srv.Close()
		if t.Failed() {
			t.Logf("pebble log:\n%s", p.logs.String())
		}
	})
	return p
}

// Start builds Pebble's CA, validation authority and front end, the VA
// validating http-01 on httpPort and tls-alpn-01 on tlsPort of 127.0.0.1,
// and lets requests through.
func (p *Pebble) Start(httpPort, tlsPort int) {
	p.t.Helper()
	if p.started {
		p.t.Fatal("pebble: Start called twice")
	}
	p.started = true
	// Pebble reads its test knobs from the environment when its parts
	// are built. The values are the same for every Pebble, so concurrent
	// tests setting them do not race in effect; only Pebble reads them.
	for k, v := range map[string]string{
		"PEBBLE_VA_NOSLEEP":      "1",
		"PEBBLE_WFE_NONCEREJECT": "0",
		"PEBBLE_AUTHZREUSE":      "0",
	} {
		if err := os.Setenv(k, v); err != nil {
			p.t.Fatal(err)
		}
	}
	logger := log.New(&p.logs, "pebble ", log.Lmicroseconds)
	store := db.NewMemoryStore()
	profiles := map[string]ca.Profile{"default": {
		Description:    "Gatehouse tests",
		ValidityPeriod: uint64(p.validity / time.Second),
	}}
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, profiles)
	validator := va.New(logger, httpPort, tlsPort, false, p.dnsAddr, store)
	front := wfe.New(logger, store, validator, authority, []string{"pebble.letsencrypt.org"}, false, false, 0, 0)
	p.handler = front.Handler()

	p.IssuerRoot = authority.GetRootCert(0).Cert
	p.IssuerPool = x509.NewCertPool()
	p.IssuerPool.AddCert(p.IssuerRoot)
	p.IssuerRootFile = filepath.Join(p.t.TempDir(), "pebble-issuer-root.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.IssuerRoot.Raw})
	if err := os.WriteFile(p.IssuerRootFile, block, 0o644); err != nil {
		p.t.Fatal(err)
	}
	close(p.ready)
}

// NewOrders counts the newOrder requests Pebble received: one per
// certificate a client set out to obtain or renew.
func (p *Pebble) NewOrders() int { return int(p.orders.Load()) }

// Log returns what Pebble logged so far.
func (p *Pebble) Log() string { return p.logs.String() }

func (p *Pebble) serveHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case <-p.ready:
	case <-r.Context().Done():
		return
	}
	if r.Method == http.MethodPost && r.URL.Path == pebbleNewOrderPath {
		p.orders.Add(1)
	}
	p.handler.ServeHTTP(w, r)
}

// startLoopbackDNS serves DNS over TCP (what Pebble's VA speaks to a
// custom resolver) on loopback, answering A 127.0.0.1 for every name and
// nothing for other types, and returns its address.
func startLoopbackDNS(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pebble dns: listen: %v", err)
	}
	srv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(answerLoopback)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ActivateAndServe()
	}()
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	return ln.Addr().String()
}

func answerLoopback(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	for _, q := range req.Question {
		if q.Qtype == dns.TypeA {
			m.Answer = append(m.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET},
				A:   net.IPv4(127, 0, 0, 1),
			})
		}
	}
	_ = w.WriteMsg(m)
}
