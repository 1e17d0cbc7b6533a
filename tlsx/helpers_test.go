package tlsx_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
	"github.com/gatehouse-proxy/gatehouse/tlsx"
)

// ioTimeout bounds every network step of a test, so a bug fails instead
// of hanging.
const ioTimeout = 5 * time.Second

// newManager returns a Manager logging JSON into the returned Logs,
// closed when the test ends.
func newManager(t *testing.T) (*tlsx.Manager, *testkit.Logs) {
	t.Helper()
	logs := &testkit.Logs{}
	m := tlsx.NewManager(slog.New(slog.NewJSONHandler(logs, nil)), nil)
	t.Cleanup(m.Close)
	return m, logs
}

// use prepares certs and puts them in use, failing the test on an error.
func use(t *testing.T, m *tlsx.Manager, certs ...config.Certificate) *tlsx.Plan {
	t.Helper()
	p, err := m.Prepare(&config.TLS{Certificates: certs}, "")
	if err != nil {
		t.Fatal(err)
	}
	m.Use(p)
	return p
}

func certOf(l *testkit.Leaf, names ...string) config.Certificate {
	return config.Certificate{Cert: l.CertFile, Key: l.KeyFile, Names: names}
}

// serve runs an echo server on addr ("127.0.0.1:0") speaking TLS with cfg
// and returns its address. Each connection echoes what it reads once the
// handshake is done; all are closed when the test ends.
func serve(t *testing.T, addr string, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				tc := tls.Server(c, cfg)
				io.Copy(tc, tc)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// dial connects with cfg and exchanges one line, since in TLS 1.3 a server
// refusing the client's certificate says so only after the client's side
// of the handshake is complete. The caller closes the connection.
func dial(addr string, cfg *tls.Config) (*tls.Conn, error) {
	raw, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return nil, err
	}
	c := tls.Client(raw, cfg)
	c.SetDeadline(time.Now().Add(ioTimeout))
	if err := c.Handshake(); err != nil {
		raw.Close()
		return nil, err
	}
	if err := roundTrip(c); err != nil {
		raw.Close()
		return nil, err
	}
	return c, nil
}

// handshake dials, exchanges a line, and returns the connection state.
func handshake(addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	c, err := dial(addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	return c.ConnectionState(), nil
}

func roundTrip(c *tls.Conn) error {
	c.SetDeadline(time.Now().Add(ioTimeout))
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		return err
	}
	_, err := bufio.NewReader(c).ReadString('\n')
	return err
}

// served returns the leaf certificate the server at addr presents for
// serverName ("" sends no SNI), without verifying it.
func served(t *testing.T, addr, serverName string) (*x509.Certificate, error) {
	t.Helper()
	st, err := handshake(addr, &tls.Config{ServerName: serverName, InsecureSkipVerify: true})
	if err != nil {
		return nil, err
	}
	return st.PeerCertificates[0], nil
}

// managerServer serves m's certificates with the default listener settings.
func managerServer(t *testing.T, m *tlsx.Manager, addr string) string {
	t.Helper()
	cfg, _, err := tlsx.ServerConfig(nil, m.GetCertificate, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return serve(t, addr, cfg)
}

func certsConfig(leaves ...*testkit.Leaf) *config.TLS {
	c := &config.TLS{}
	for _, l := range leaves {
		c.Certificates = append(c.Certificates, certOf(l))
	}
	return c
}
