package tlsx

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/acme"
	"github.com/gatehouse-proxy/gatehouse/config"
)

// secureSuites are the TLS 1.2 cipher suites Gatehouse offers and accepts
// in overrides: forward secret (ECDHE) and authenticated encryption
// (AES-GCM, ChaCha20-Poly1305). TLS 1.3 suites are all of this kind and
// are not configurable in Go.
var secureSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// defaultCurves: hybrid post-quantum first, then the classic groups every
// client has.
var defaultCurves = []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256, tls.CurveP384}

// curveNames spell the key exchange groups overrides may name.
var curveNames = map[string]tls.CurveID{
	"x25519mlkem768": tls.X25519MLKEM768, "x25519": tls.X25519,
	"secp256r1mlkem768": tls.SecP256r1MLKEM768, "secp384r1mlkem1024": tls.SecP384r1MLKEM1024,
	"p256": tls.CurveP256, "p-256": tls.CurveP256, "curvep256": tls.CurveP256, "secp256r1": tls.CurveP256,
	"p384": tls.CurveP384, "p-384": tls.CurveP384, "curvep384": tls.CurveP384, "secp384r1": tls.CurveP384,
	"p521": tls.CurveP521, "p-521": tls.CurveP521, "curvep521": tls.CurveP521, "secp521r1": tls.CurveP521,
}

// ServerConfig returns the tls.Config of one listener: certificates from
// get (usually Manager.GetCertificate), ALPN protocols nextProtos, and the
// secure defaults of config.ListenerTLS with lt's overrides; a nil lt means
// the defaults. Session tickets are on, their keys rotated by crypto/tls.
//
// With client_auth mode "require" the handshake refuses a client without
// a certificate verifying against the CA. With mode "request" any client
// is let in and nothing is verified here; the CA pool is returned (nil
// without a CA) for verifying per request. baseDir resolves the CA path.
func ServerConfig(lt *config.ListenerTLS, get func(*tls.ClientHelloInfo) (*tls.Certificate, error), nextProtos []string, baseDir string) (cfg *tls.Config, clientCAs *x509.CertPool, err error) {
	if lt == nil {
		lt = &config.ListenerTLS{}
	}
	cfg = &tls.Config{
		GetCertificate:   get,
		NextProtos:       slices.Clone(nextProtos),
		CipherSuites:     slices.Clone(secureSuites),
		CurvePreferences: slices.Clone(defaultCurves),
	}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	cfg.MinVersion, err = parseVersion("min_version", lt.MinVersion, tls.VersionTLS12)
	add(err)
	cfg.MaxVersion, err = parseVersion("max_version", lt.MaxVersion, tls.VersionTLS13)
	add(err)
	if cfg.MinVersion > cfg.MaxVersion && cfg.MaxVersion != 0 {
		add(fmt.Errorf("min_version %s is above max_version %s", lt.MinVersion, lt.MaxVersion))
	}
	if len(lt.Ciphers) > 0 {
		cfg.CipherSuites, err = parseCiphers(lt.Ciphers)
		add(err)
	}
	if len(lt.Curves) > 0 {
		cfg.CurvePreferences, err = parseCurves(lt.Curves)
		add(err)
	}
	if lt.ClientAuth != nil {
		clientCAs, err = clientAuth(cfg, lt.ClientAuth, baseDir)
		add(err)
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	if slices.Contains(cfg.NextProtos, acme.ALPNProto) {
		cfg.GetConfigForClient = challengeConfig(cfg)
	}
	return cfg, clientCAs, nil
}

// challengeConfig returns a GetConfigForClient that handshakes a hello
// offering acme-tls/1 without client authentication, because the CA's
// validator has no client certificate: under TLS 1.2 a listener requiring
// one would fail every validation. The connection can carry nothing but
// the challenge: acme-tls/1 is the only protocol negotiated, and
// net/http closes a connection with a protocol it has no handler for.
// Session tickets are off, so a challenge session never resumes into
// anything else.
func challengeConfig(base *tls.Config) func(*tls.ClientHelloInfo) (*tls.Config, error) {
	challenge := &tls.Config{
		GetCertificate:         base.GetCertificate,
		NextProtos:             []string{acme.ALPNProto},
		MinVersion:             base.MinVersion,
		MaxVersion:             base.MaxVersion,
		CipherSuites:           base.CipherSuites,
		CurvePreferences:       base.CurvePreferences,
		SessionTicketsDisabled: true,
	}
	return func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		if slices.Contains(hello.SupportedProtos, acme.ALPNProto) {
			return challenge, nil
		}
		return nil, nil
	}
}

func parseVersion(field, v string, def uint16) (uint16, error) {
	switch v {
	case "":
		return def, nil
	case "1.0", "1.1":
		return 0, fmt.Errorf("%s %q: TLS %s is insecure and refused by browsers; use \"1.2\" or \"1.3\"", field, v, v)
	}
	if id, ok := config.TLSVersionID(v); ok {
		return id, nil
	}
	return 0, fmt.Errorf("%s %q: use \"1.2\" or \"1.3\"", field, v)
}

// parseCiphers maps IANA names (and Go's constant names, which differ only
// for ChaCha20) to suite IDs, refusing any suite outside secureSuites with
// the reason.
func parseCiphers(names []string) ([]uint16, error) {
	var ids []uint16
	var errs []error
	for _, n := range names {
		id, err := cipherID(n)
		if err != nil {
			errs = append(errs, fmt.Errorf("ciphers: %q: %w", n, err))
			continue
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, errors.Join(errs...)
}

func cipherID(name string) (uint16, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	switch n { // Go's constant names for the ChaCha20 suites
	case "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305":
		return tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, nil
	case "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305":
		return tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, nil
	}
	for _, s := range tls.InsecureCipherSuites() {
		if s.Name == n {
			return 0, fmt.Errorf("insecure: %s; remove it", insecureReason(n))
		}
	}
	for _, s := range tls.CipherSuites() {
		switch {
		case s.Name != n:
		case slices.Contains(secureSuites, s.ID):
			return s.ID, nil
		case !slices.Contains(s.SupportedVersions, tls.VersionTLS12):
			return 0, errors.New("a TLS 1.3 suite: those are always on and not configurable")
		default:
			return 0, errors.New("CBC mode, open to padding-oracle attacks; use an AES-GCM or ChaCha20-Poly1305 suite")
		}
	}
	return 0, fmt.Errorf("unknown cipher suite; allowed: %s", strings.Join(suiteNames(), ", "))
}

func insecureReason(name string) string {
	switch {
	case strings.Contains(name, "RC4"):
		return "RC4 is broken"
	case strings.Contains(name, "3DES"):
		return "3DES has 64-bit blocks (Sweet32)"
	case strings.HasPrefix(name, "TLS_RSA_"):
		return "RSA key exchange has no forward secrecy"
	default:
		return "CBC mode with SHA-256 is open to timing attacks (Lucky13)"
	}
}

func suiteNames() []string {
	names := make([]string, len(secureSuites))
	for i, id := range secureSuites {
		names[i] = tls.CipherSuiteName(id)
	}
	return names
}

func parseCurves(names []string) ([]tls.CurveID, error) {
	var ids []tls.CurveID
	var errs []error
	for _, n := range names {
		id, ok := curveNames[strings.ToLower(strings.TrimSpace(n))]
		if !ok {
			errs = append(errs, fmt.Errorf("curves: %q: unknown; use X25519MLKEM768, X25519, P256, P384 or P521", n))
			continue
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	return ids, errors.Join(errs...)
}

func clientAuth(cfg *tls.Config, ca *config.ClientAuth, baseDir string) (*x509.CertPool, error) {
	var pool *x509.CertPool
	if ca.CA != "" {
		var err error
		if pool, err = LoadCAPool(resolve(baseDir, ca.CA)); err != nil {
			return nil, fmt.Errorf("client_auth.ca: %w", err)
		}
	}
	switch ca.Mode {
	case "", "require":
		if pool == nil {
			return nil, errors.New(`client_auth.ca: required with mode "require": the PEM bundle client certificates must chain to`)
		}
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	case "request":
		// Verified per request by the caller, so a client with a missing
		// or foreign certificate still reaches routes that do not care.
		cfg.ClientAuth = tls.RequestClientCert
	default:
		return nil, fmt.Errorf(`client_auth.mode %q: use "require" or "request"`, ca.Mode)
	}
	// Sent in the handshake so clients holding several certificates pick
	// one from these authorities.
	cfg.ClientCAs = pool
	return pool, nil
}

// LoadCAPool reads a PEM bundle of CA certificates. The error names file
// when it cannot be read, holds no certificate, or holds one that does not
// parse.
func LoadCAPool(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("CA file %s: cannot read: %w", file, unwrapPath(err))
	}
	pool := x509.NewCertPool()
	n := 0
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CA file %s: certificate %d cannot be parsed: %w", file, n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("CA file %s: holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)", file)
	}
	return pool, nil
}
