package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

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

// LoadTLS returns settings with the contents of the files they name
// (CAFile, CertFile and KeyFile) read in, having checked that they parse.
// The contents in settings are ignored. Errors name the file.
func LoadTLS(settings TLS) (*TLS, error) {
	t := &TLS{
		CAFile:             settings.CAFile,
		ServerName:         settings.ServerName,
		CertFile:           settings.CertFile,
		KeyFile:            settings.KeyFile,
		InsecureSkipVerify: settings.InsecureSkipVerify,
	}
	var err error
	if t.CAFile != "" {
		if t.CA, err = os.ReadFile(t.CAFile); err != nil {
			return nil, fmt.Errorf("tls.ca: %w", err)
		}
	}
	if (t.CertFile == "") != (t.KeyFile == "") {
		// Which file would be read is undefined: say so rather than
		// guess (config refuses this too).
		return nil, errors.New("tls: cert and key go together: give both files or neither")
	}
	if t.CertFile != "" {
		if t.Cert, err = os.ReadFile(t.CertFile); err != nil {
			return nil, fmt.Errorf("tls.cert: %w", err)
		}
		if t.Key, err = os.ReadFile(t.KeyFile); err != nil {
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
