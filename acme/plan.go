package acme

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
)

// Defaults for the optional settings of config.ACME.
const (
	// LetsEncrypt is Let's Encrypt's production directory.
	LetsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"
	// LetsEncryptStaging issues untrusted certificates under far higher
	// rate limits: the directory to try a setup against first.
	LetsEncryptStaging = "https://acme-staging-v02.api.letsencrypt.org/directory"
	// DefaultStorage is the storage directory, relative to the working directory.
	DefaultStorage = "gatehouse-data"
	// DefaultRenewCheckInterval is how often certificates are checked.
	DefaultRenewCheckInterval = 10 * time.Minute

	challengeHTTP    = "http-01"
	challengeTLSALPN = "tls-alpn-01"
)

// Plan is a prepared ACME configuration: checked and built, not yet in use.
// It is immutable.
type Plan struct {
	domains    []string            // normalized, in config order, no duplicates
	names      map[string]struct{} // the same, for Covers
	directory  string
	email      string
	roots      *x509.CertPool // nil: system roots
	storage    string         // absolute
	http01     bool
	tlsALPN01  bool
	renewEvery time.Duration
	ocsp       bool
}

// Prepare checks cfg and builds what Use needs, without side effects (no
// network, no background work). baseDir resolves a relative storage path
// and ca_root. A nil cfg gives a nil Plan, which Use takes as "manage
// nothing". Errors name the setting at fault and what to write instead.
func (m *Manager) Prepare(cfg *config.ACME, baseDir string) (*Plan, error) {
	if cfg == nil {
		return nil, nil
	}
	p := &Plan{
		directory:  cfg.Directory,
		email:      strings.TrimSpace(cfg.Email),
		renewEvery: time.Duration(cfg.RenewCheckInterval),
		ocsp:       cfg.OCSPStapling,
	}
	if p.directory == "" {
		p.directory = LetsEncrypt
	}
	if p.renewEvery == 0 {
		p.renewEvery = DefaultRenewCheckInterval
	}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(p.setDomains(cfg.Domains))
	add(checkDirectory(p.directory))
	add(p.setChallenges(cfg.Challenges))
	if p.email != "" && !strings.Contains(p.email, "@") {
		add(fmt.Errorf("email %q: not an email address; write the contact address or leave email out", p.email))
	}
	if p.renewEvery < time.Second {
		add(fmt.Errorf("renew_check_interval %s: must be at least 1s (default %s)", p.renewEvery, DefaultRenewCheckInterval))
	}
	if cfg.CARoot != "" {
		pool, err := readRoots(resolve(baseDir, cfg.CARoot))
		add(err)
		p.roots = pool
	}
	storage, err := storageDir(baseDir, cfg.Storage)
	add(err)
	p.storage = storage
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

func (p *Plan) setDomains(domains config.Strings) error {
	if len(domains) == 0 {
		return errors.New("domains: list at least one name to obtain a certificate for")
	}
	p.names = make(map[string]struct{}, len(domains))
	for _, d := range domains {
		name := normalize(d)
		if err := checkDomain(d, name); err != nil {
			return err
		}
		if _, dup := p.names[name]; dup {
			continue
		}
		p.names[name] = struct{}{}
		p.domains = append(p.domains, name)
	}
	return nil
}

func checkDomain(raw, name string) error {
	switch {
	case strings.Contains(name, "*"):
		return fmt.Errorf("domains: %q: wildcard names need the DNS-01 challenge, which Gatehouse does not do; list each name", raw)
	case name == "" || strings.ContainsAny(name, " /:@[]\\") || strings.HasPrefix(name, ".") || strings.Contains(name, ".."):
		return fmt.Errorf("domains: %q: not a host name; write a name such as example.com", raw)
	case net.ParseIP(name) != nil:
		return fmt.Errorf("domains: %q: IP addresses are not supported; list DNS names", raw)
	}
	return nil
}

func checkDirectory(dir string) error {
	u, err := url.Parse(dir)
	if err != nil || u.Host == "" || u.Scheme != "https" {
		return fmt.Errorf("directory %q: must be an https:// URL of an ACME directory, e.g. %s", dir, LetsEncrypt)
	}
	return nil
}

func (p *Plan) setChallenges(names config.Strings) error {
	if len(names) == 0 {
		p.http01, p.tlsALPN01 = true, true
		return nil
	}
	for _, c := range names {
		switch strings.ToLower(c) {
		case challengeHTTP:
			p.http01 = true
		case challengeTLSALPN:
			p.tlsALPN01 = true
		default:
			return fmt.Errorf("challenges: %q: unknown challenge; use %s and/or %s", c, challengeHTTP, challengeTLSALPN)
		}
	}
	return nil
}

// readRoots reads a PEM bundle to trust for the directory's HTTPS.
func readRoots(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca_root: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_root %s: no PEM certificate in the file; give the CA's root certificate in PEM form", path)
	}
	return pool, nil
}

// storageDir resolves the storage directory; it need not exist yet (it is
// created when the first certificate is stored) but must not be a file.
func storageDir(baseDir, dir string) (string, error) {
	if dir == "" {
		dir = DefaultStorage
	}
	path, err := filepath.Abs(resolve(baseDir, dir))
	if err != nil {
		return "", fmt.Errorf("storage %q: %w", dir, err)
	}
	if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
		return "", fmt.Errorf("storage %s: is a file, not a directory", path)
	}
	return path, nil
}

func resolve(baseDir, path string) string {
	if filepath.IsAbs(path) || baseDir == "" {
		return path
	}
	return filepath.Join(baseDir, path)
}

// normalize lowercases a host name and drops a trailing dot.
func normalize(host string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(host), "."))
}
