package h2guard

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// h2server serves x/net's HTTP/2 server on a loopback listener, each
// connection wrapped as wrap says (the guard, over a test conn).
type h2server struct {
	addr  string
	trips chan Event
	conns sync.WaitGroup
	stop  func() // closes the listener and every connection, and waits

	mu     sync.Mutex
	guards []*Conn
}

// counts sums the guards' counts; only after stop.
func (s *h2server) counts() (opened, resets int) {
	for _, g := range s.guards {
		opened += g.opened
		resets += g.resets
	}
	return opened, resets
}

func startH2(t *testing.T, p *Policy, wrap func(net.Conn) net.Conn, tlsConf *tls.Config, h http.Handler) *h2server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &h2server{addr: ln.Addr().String(), trips: make(chan Event, 16)}
	p.OnTrip = func(e Event) { s.trips <- e }
	srv := &http2.Server{}
	var mu sync.Mutex
	var open []net.Conn
	s.conns.Add(1)
	go func() {
		defer s.conns.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			s.conns.Add(1)
			go func() {
				defer s.conns.Done()
				var inner net.Conn = c
				if tlsConf != nil {
					tc := tls.Server(c, tlsConf)
					if tc.Handshake() != nil {
						c.Close()
						return
					}
					inner = tc
				}
				g := p.Wrap(wrap(inner))
				s.mu.Lock()
				if tc, ok := g.(*tlsConn); ok {
					s.guards = append(s.guards, &tc.Conn)
				} else {
					s.guards = append(s.guards, g.(*Conn))
				}
				s.mu.Unlock()
				srv.ServeConn(g, &http2.ServeConnOpts{Handler: h})
			}()
		}
	}()
	var once sync.Once
	s.stop = func() {
		once.Do(func() {
			ln.Close()
			mu.Lock()
			for _, c := range open {
				c.Close()
			}
			mu.Unlock()
			s.conns.Wait()
		})
	}
	t.Cleanup(s.stop)
	return s
}

func plain(c net.Conn) net.Conn { return c }

func oneByte(c net.Conn) net.Conn {
	if tc, ok := c.(*tls.Conn); ok {
		return struct {
			oneByteConn
			tlsState
		}{oneByteConn{tc}, tlsState{tc}}
	}
	return oneByteConn{c}
}

type tlsState struct{ c *tls.Conn }

func (s tlsState) ConnectionState() tls.ConnectionState { return s.c.ConnectionState() }

// TestRapidResetGetsGoAway: a raw client opening and resetting streams
// as fast as it can, against x/net's server behind the guard, gets
// GOAWAY ENHANCE_YOUR_CALM from the guard, then the connection closes;
// the server's frames before it parse cleanly. Also with every frame
// header split across one-byte reads.
func TestRapidResetGetsGoAway(t *testing.T) {
	for _, tc := range []struct {
		name string
		wrap func(net.Conn) net.Conn
	}{{"whole reads", plain}, {"one-byte reads", oneByte}} {
		t.Run(tc.name, func(t *testing.T) {
			p := &Policy{MinResets: 200, CloseAfter: 200 * time.Millisecond, Listener: "h2c"}
			s := startH2(t, p, tc.wrap, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			c, err := net.Dial("tcp", s.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			go func() {
				bw := bufio.NewWriter(c)
				f := newFrames(true)
				f.fr.WriteSettings()
				for i := uint32(0); i < 5000; i += 100 {
					f.openReset(2*i+1, 100)
					if _, err := bw.Write(f.buf.Bytes()); err != nil {
						return
					}
					f.buf.Reset()
					if bw.Flush() != nil {
						return
					}
				}
			}()
			fr := http2.NewFramer(nil, bufio.NewReader(c))
			var ga *http2.GoAwayFrame
			for ga == nil {
				f, err := fr.ReadFrame()
				if err != nil {
					t.Fatalf("before any GOAWAY: %v", err)
				}
				if g, ok := f.(*http2.GoAwayFrame); ok {
					ga = g
				}
			}
			at := time.Now()
			if ga.ErrCode != http2.ErrCodeEnhanceYourCalm || string(ga.DebugData()) != goawayDebug {
				t.Fatalf("GOAWAY %v %q, want ENHANCE_YOUR_CALM from the guard", ga.ErrCode, ga.DebugData())
			}
			if ga.LastStreamID < 399 || ga.LastStreamID%2 != 1 {
				t.Errorf("GOAWAY last stream %d, want an odd client stream from 399 on", ga.LastStreamID)
			}
			var e Event
			select {
			case e = <-s.trips:
			case <-time.After(5 * time.Second):
				t.Fatal("no trip event")
			}
			if e.Listener != "h2c" || e.Resets < 200 || e.LastStream != ga.LastStreamID || e.Remote.String() != c.LocalAddr().String() {
				t.Errorf("event %+v; want listener h2c, >= 200 resets, last stream %d, remote %s", e, ga.LastStreamID, c.LocalAddr())
			}
			for {
				if _, err := fr.ReadFrame(); err != nil {
					if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isReset(err) {
						t.Errorf("connection ended with %v, want EOF", err)
					}
					break
				}
			}
			if d := time.Since(at); d > 3*time.Second {
				t.Errorf("closed %s after the GOAWAY, want about CloseAfter (200ms)", d)
			}
		})
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op)
}

// TestRealClientsNeverTrip: x/net's client under the default Policy,
// over h2c and over TLS, with whole and one-byte reads on the server:
// thousands of requests, every tenth cancelled while in flight, and a
// page's worth of requests all cancelled at once (navigating away), never
// trip the guard, and every request not cancelled succeeds.
func TestRealClientsNeverTrip(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		io.WriteString(w, "ok")
	})
	srvTLS := httptest.NewUnstartedServer(nil)
	srvTLS.EnableHTTP2 = true
	srvTLS.StartTLS() // only for its certificate
	srvTLS.Close()
	for _, tc := range []struct {
		name string
		tls  bool
		wrap func(net.Conn) net.Conn
	}{
		{"h2c", false, plain},
		{"h2c, one-byte reads", false, oneByte},
		{"TLS", true, plain},
		{"TLS, one-byte reads", true, oneByte},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var conf *tls.Config
			tr := &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
				return new(net.Dialer).DialContext(ctx, network, addr)
			}}
			scheme := "http://"
			if tc.tls {
				conf = &tls.Config{Certificates: srvTLS.TLS.Certificates, NextProtos: []string{"h2"}}
				tr = &http2.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}}}
				scheme = "https://"
			}
			p := &Policy{}
			s := startH2(t, p, tc.wrap, conf, handler)
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			url := scheme + s.addr

			const n = 3000
			var failed, cancelled atomic.Int64
			var wg sync.WaitGroup
			sem := make(chan struct{}, 16)
			for i := range n {
				sem <- struct{}{}
				wg.Go(func() {
					defer func() { <-sem }()
					if i%10 == 0 {
						ctx, cancel := context.WithTimeout(context.Background(), time.Duration(1+i%5)*time.Millisecond)
						defer cancel()
						req, _ := http.NewRequestWithContext(ctx, "GET", url+"/slow", nil)
						if res, err := client.Do(req); err == nil {
							res.Body.Close()
						}
						cancelled.Add(1)
						return
					}
					res, err := client.Get(url + "/")
					if err != nil {
						failed.Add(1)
						return
					}
					b, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if !bytes.Equal(b, []byte("ok")) {
						failed.Add(1)
					}
				})
			}
			wg.Wait()
			// Navigating away: a page's 300 requests in flight, all
			// cancelled together.
			ctx, cancel := context.WithCancel(context.Background())
			for range 300 {
				wg.Go(func() {
					req, _ := http.NewRequestWithContext(ctx, "GET", url+"/slow", nil)
					if res, err := client.Do(req); err == nil {
						res.Body.Close()
					}
				})
			}
			time.Sleep(100 * time.Millisecond)
			cancel()
			wg.Wait()
			if res, err := client.Get(url + "/"); err != nil {
				t.Errorf("after the cancellations: %v", err)
			} else {
				res.Body.Close()
			}
			tr.CloseIdleConnections()
			s.stop()
			select {
			case e := <-s.trips:
				t.Fatalf("tripped: %+v", e)
			default:
			}
			opened, resets := s.counts()
			t.Logf("%d connections, %d streams, %d reset by the client", len(s.guards), opened, resets)
			// Requests cancelled before they were sent open no stream.
			if opened < n-int(cancelled.Load()) || resets < 300 {
				t.Errorf("the guards counted %d streams and %d resets, want at least %d and 300: the test does not test",
					opened, resets, n-int(cancelled.Load()))
			}
			if failed.Load() > 0 {
				t.Errorf("%d of %d requests failed", failed.Load(), n-cancelled.Load())
			}
		})
	}
}
