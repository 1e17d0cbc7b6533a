package tlsx

import (
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/gatehouse-proxy/gatehouse/acme"
	"github.com/gatehouse-proxy/gatehouse/config"
)

// Plan is a loaded certificate configuration: the PEM certificates, the
// prepared ACME plan and the names they cover. Prepare builds it; Use puts
// it in service. Its configuration never changes; while it is in use, the
// certificates of files that change on disk are swapped in place. Safe for
// concurrent use.
type Plan struct {
	certs     []*slot
	acme      *acme.Plan          // nil without ACME
	acmeNames map[string]struct{} // normalized ACME domains
	idx       atomic.Pointer[index]
}

// slot is one configured certificate and the pair currently loaded for it.
// Only the Manager's watcher replaces the pair once the plan is in use.
type slot struct {
	files pairFiles
	cur   atomic.Pointer[pair]
	bad   [sha256.Size]byte // hash of the last content reported as unusable
}

// index maps names to certificates; built once per change of any pair, so
// a handshake needs one or two map lookups and no allocation.
type index struct {
	exact map[string]*tls.Certificate
	wild  map[string]*tls.Certificate // "*.example.com" stored as "example.com"
	ips   map[netip.Addr]*tls.Certificate
	first *tls.Certificate
}

// Prepare reads and checks every certificate file of cfg and prepares
// cfg.ACME, without side effects: nothing is served or watched until Use.
// baseDir resolves relative paths ("" means the working directory). The
// error lists every problem, each naming the setting and the file.
func (m *Manager) Prepare(cfg *config.TLS, baseDir string) (*Plan, error) {
	p := &Plan{}
	if cfg == nil {
		p.idx.Store(buildIndex(nil))
		return p, nil
	}
	var errs []error
	now := m.now()
	for i, c := range cfg.Certificates {
		where := fmt.Sprintf("tls.certificates[%d]", i)
		if c.Cert == "" || c.Key == "" {
			errs = append(errs, fmt.Errorf("%s: both cert and key files are required", where))
			continue
		}
		f := pairFiles{cert: resolve(baseDir, c.Cert), key: resolve(baseDir, c.Key), names: c.Names}
		pr, err := loadPair(f, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		s := &slot{files: f}
		s.cur.Store(pr)
		p.certs = append(p.certs, s)
	}
	if err := m.prepareACME(p, cfg.ACME, baseDir); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	p.idx.Store(buildIndex(p.certs))
	return p, nil
}

func (m *Manager) prepareACME(p *Plan, cfg *config.ACME, baseDir string) error {
	if cfg == nil {
		return nil
	}
	if m.acme == nil {
		return errors.New("tls.acme: this process was started without ACME support")
	}
	ap, err := m.acme.Prepare(cfg, baseDir)
	if err != nil {
		return fmt.Errorf("tls.acme: %w", err)
	}
	p.acme = ap
	p.acmeNames = make(map[string]struct{}, len(cfg.Domains))
	for _, d := range cfg.Domains {
		p.acmeNames[normalize(d)] = struct{}{}
	}
	return nil
}

func resolve(baseDir, path string) string {
	if !filepath.IsAbs(path) && baseDir != "" {
		path = filepath.Join(baseDir, path)
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// buildIndex maps every served name to its certificate; where several
// certificates claim a name, the first listed wins.
func buildIndex(slots []*slot) *index {
	ix := &index{
		exact: make(map[string]*tls.Certificate),
		wild:  make(map[string]*tls.Certificate),
		ips:   make(map[netip.Addr]*tls.Certificate),
	}
	for _, s := range slots {
		pr := s.cur.Load()
		if ix.first == nil {
			ix.first = pr.cert
		}
		for _, n := range pr.names {
			m, key := ix.exact, n
			if rest, ok := strings.CutPrefix(n, "*."); ok {
				m, key = ix.wild, rest
			} else if a, err := netip.ParseAddr(n); err == nil {
				if _, dup := ix.ips[a.Unmap()]; !dup {
					ix.ips[a.Unmap()] = pr.cert
				}
				continue
			}
			if _, dup := m[key]; !dup {
				m[key] = pr.cert
			}
		}
	}
	return ix
}

// byName returns the certificate for a normalized host name: an exact
// match, else a wildcard covering exactly its first label (RFC 6125).
func (ix *index) byName(name string) *tls.Certificate {
	if c := ix.exact[name]; c != nil {
		return c
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		return ix.wild[name[i+1:]]
	}
	return nil
}

// Covers reports whether host (without port) has a certificate in p: a
// PEM certificate's name, exact or by wildcard, or an ACME domain. A nil p
// covers nothing.
func (p *Plan) Covers(host string) bool {
	if p == nil {
		return false
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	name := normalize(host)
	if _, ok := p.acmeNames[name]; ok {
		return true
	}
	ix := p.idx.Load()
	if ix.byName(name) != nil {
		return true
	}
	if a, ok := ipLiteral(name); ok {
		return ix.ips[a] != nil
	}
	return false
}

// ipLiteral parses name as an IP address, cheaply passing over host names
// first (an IPv4 address ends in a digit, an IPv6 one has a colon), since
// a failed parse allocates its error.
func ipLiteral(name string) (netip.Addr, bool) {
	if name == "" {
		return netip.Addr{}, false
	}
	if c := name[len(name)-1]; (c < '0' || c > '9') && strings.IndexByte(name, ':') < 0 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(name)
	return a.Unmap(), err == nil
}
