package upstream

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"

	"github.com/gatehouse-proxy/gatehouse/config"
)

// Schemes of targets. All targets of a pool share one.
const (
	// SchemeHTTP is HTTP/1.1 over TCP.
	SchemeHTTP = "http"
	// SchemeHTTPS is TLS, with HTTP/2 or HTTP/1.1 chosen by ALPN.
	SchemeHTTPS = "https"
	// SchemeH2C is cleartext HTTP/2 with prior knowledge (RFC 9113
	// section 3.3), as gRPC servers speak it.
	SchemeH2C = "h2c"
)

// Scheme returns the scheme every target of cfg uses, or an error when
// they differ or one does not parse.
func Scheme(cfg *config.Upstream) (string, error) {
	scheme := ""
	for i, t := range cfg.Targets {
		u, err := url.Parse(t.URL)
		if err != nil {
			return "", fmt.Errorf("targets[%d]: %w", i, err)
		}
		if scheme != "" && u.Scheme != scheme {
			return "", fmt.Errorf("targets[%d]: scheme %s differs from %s; all targets of an upstream use one scheme", i, u.Scheme, scheme)
		}
		scheme = u.Scheme
	}
	return scheme, nil
}

// TLS is how a pool's https targets are reached, held as data: the settings
// and the contents of the files they name. Two TLS values are equal under
// reflect.DeepEqual exactly when the settings and the file contents are, so
// an unchanged upstream keeps its pooled connections across a reload while
// a rotated certificate or CA gets new ones. The zero value verifies
// targets against the system roots, with the target's host as SNI.
type TLS struct {
	// CAFile and CA are the bundle targets are verified against; empty
	// means the system roots.
	CAFile string
	CA     []byte
	// ServerName is sent as SNI and verified; "" means the target's host.
	ServerName string
	// CertFile, KeyFile, Cert and Key are the client certificate (mutual
	// TLS); empty means none is presented.
	CertFile, KeyFile string
	Cert, Key         []byte
	// InsecureSkipVerify turns certificate verification off.
	InsecureSkipVerify bool
}

// LoadTLS reads the files c names and checks that they parse. Errors name
// the file.
func LoadTLS(c *config.UpstreamTLS) (*TLS, error) {
	t := &TLS{
		CAFile:             c.CA,
		ServerName:         c.ServerName,
		CertFile:           c.Cert,
		KeyFile:            c.Key,
		InsecureSkipVerify: c.InsecureSkipVerify,
	}
	var err error
	if c.CA != "" {
		if t.CA, err = os.ReadFile(c.CA); err != nil {
			return nil, fmt.Errorf("tls.ca: %w", err)
		}
	}
	if (c.Cert == "") != (c.Key == "") {
		return nil, errors.New("tls: cert and key go together: give both files or neither")
	}
	if c.Cert != "" {
		if t.Cert, err = os.ReadFile(c.Cert); err != nil {
			return nil, fmt.Errorf("tls.cert: %w", err)
		}
		if t.Key, err = os.ReadFile(c.Key); err != nil {
			return nil, fmt.Errorf("tls.key: %w", err)
		}
	}
	if _, err := t.ClientConfig(); err != nil {
		return nil, err
	}
	return t, nil
}

// ClientConfig builds a new *tls.Config for connections to targets: TLS
// 1.2 at least, verified against CA (or the system roots), presenting the
// client certificate if any. ServerName is left empty unless configured,
// so net/http fills in each target's host. A nil t gives the defaults.
func (t *TLS) ClientConfig() (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if t == nil {
		return c, nil
	}
	c.ServerName = t.ServerName
	c.InsecureSkipVerify = t.InsecureSkipVerify
	if len(t.CA) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(t.CA) {
			return nil, fmt.Errorf("tls.ca %s: no PEM certificate in it", t.CAFile)
		}
		c.RootCAs = pool
	}
	if len(t.Cert) > 0 {
		pair, err := tls.X509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("tls.cert %s and tls.key %s: %w", t.CertFile, t.KeyFile, err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

// SetProtocols configures tr for targets of scheme: for https, TLS from
// cfg with HTTP/2 and HTTP/1.1 offered by ALPN; for h2c, HTTP/2 only
// without TLS (requests then use http:// URLs); for http, HTTP/1.1.
func SetProtocols(tr *http.Transport, scheme string, cfg *tls.Config) {
	var p http.Protocols
	switch scheme {
	case SchemeHTTPS:
		tr.TLSClientConfig = cfg
		p.SetHTTP1(true)
		p.SetHTTP2(true)
	case SchemeH2C:
		p.SetUnencryptedHTTP2(true)
	default:
		p.SetHTTP1(true)
	}
	tr.Protocols = &p
}

// RequestScheme is the URL scheme net/http is given for a target scheme:
// h2c travels as http:// on a transport that speaks only HTTP/2.
func RequestScheme(scheme string) string {
	if scheme == SchemeH2C {
		return SchemeHTTP
	}
	return scheme
}
