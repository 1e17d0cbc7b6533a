package gateway

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/tlsinfo"
)

// tlsCond compiles a match.tls block into a router condition, nil for
// none. A plain HTTP request never matches one.
func tlsCond(m *config.MatchTLS) func(*http.Request) bool {
	if m == nil {
		return nil
	}
	// Config has validated every name; an unknown one cannot get here.
	var versions []uint16
	for _, v := range m.Versions {
		id, _ := config.TLSVersionID(v)
		versions = append(versions, id)
	}
	var ciphers []uint16
	for _, name := range m.Ciphers {
		id, _ := config.CipherSuiteID(name)
		ciphers = append(ciphers, id)
	}
	sni := compileSNI(m.SNI)
	cert := m.ClientCert
	subjects := slices.Clone(m.ClientSubject)
	return func(r *http.Request) bool {
		cs := r.TLS
		switch {
		case cs == nil:
			return false
		case len(versions) > 0 && !slices.Contains(versions, cs.Version):
			return false
		case len(m.SNI) > 0 && !sni.match(cs.ServerName):
			return false
		case len(ciphers) > 0 && !slices.Contains(ciphers, cs.CipherSuite):
			return false
		case cert == "none":
			return !tlsinfo.Verified(r, nil)
		case len(subjects) > 0: // "" (unverified) is never listed
			return slices.Contains(subjects, tlsinfo.VerifiedSubject(r))
		case cert == "verified":
			return tlsinfo.Verified(r, nil)
		}
		return true
	}
}

// sniNames are the server names of a match.tls block: exact names and
// the suffixes of wildcards, both lower case.
type sniNames struct {
	exact  []string
	suffix []string // ".example.com" for "*.example.com"
}

func compileSNI(names []string) sniNames {
	var s sniNames
	for _, n := range names {
		n = strings.ToLower(strings.TrimSuffix(n, "."))
		if suffix, ok := strings.CutPrefix(n, "*"); ok {
			s.suffix = append(s.suffix, suffix)
		} else {
			s.exact = append(s.exact, n)
		}
	}
	return s
}

// match reports whether name, as the client sent it, is listed. A
// wildcard covers exactly one label, as in certificates: "*.example.com"
// matches "a.example.com", not "a.b.example.com" nor "example.com".
func (s *sniNames) match(name string) bool {
	for _, e := range s.exact {
		if strings.EqualFold(name, e) {
			return true
		}
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		for _, suffix := range s.suffix {
			if strings.EqualFold(name[i:], suffix) {
				return true
			}
		}
	}
	return false
}
