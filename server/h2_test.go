package server

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/gatehouse-proxy/gatehouse/config"
)

// recordConn records the writes made to it and passes them on to the
// connection under it, if any.
type recordConn struct {
	net.Conn
	mu     sync.Mutex
	wrote  strings.Builder
	writes int
}

func (c *recordConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	c.wrote.Write(p)
	c.mu.Unlock()
	if c.Conn == nil {
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *recordConn) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes
}

// stateConn is a connection with TLS state, as a *tls.Conn has.
type stateConn struct {
	recordConn
	state tls.ConnectionState
}

func (c *stateConn) ConnectionState() tls.ConnectionState { return c.state }

// failConn fails every write.
type failConn struct{ net.Conn }

var errWrite = errors.New("write failed")

func (failConn) Write([]byte) (int, error) { return 0, errWrite }

// TestYielding: the wrapper has TLS state exactly when the connection
// under it has (x/net's server tells TLS from h2c by it), and passes
// every write, with its result, through unchanged.
func TestYielding(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		rc := &recordConn{}
		c := yielding(rc)
		if _, ok := c.(connectionStater); ok {
			t.Fatal("a plain connection got TLS state")
		}
		if n, err := c.Write([]byte("abc")); n != 3 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
		c.Write([]byte("de"))
		if rc.wrote.String() != "abcde" || rc.writes != 2 {
			t.Fatalf("wrote %q in %d writes", rc.wrote.String(), rc.writes)
		}
		if c.(interface{ NetConn() net.Conn }).NetConn() != rc {
			t.Fatal("NetConn is not the wrapped connection")
		}
	})
	t.Run("tls", func(t *testing.T) {
		sc := &stateConn{state: tls.ConnectionState{Version: tls.VersionTLS13, NegotiatedProtocol: "h2"}}
		c := yielding(sc)
		cs, ok := c.(connectionStater)
		if !ok {
			t.Fatal("a TLS connection lost its TLS state")
		}
		if st := cs.ConnectionState(); st.Version != tls.VersionTLS13 || st.NegotiatedProtocol != "h2" {
			t.Fatalf("ConnectionState = %+v", st)
		}
		c.Write([]byte("x"))
		if sc.wrote.String() != "x" {
			t.Fatalf("wrote %q", sc.wrote.String())
		}
	})
	t.Run("error", func(t *testing.T) {
		if n, err := yielding(failConn{}).Write([]byte("x")); n != 0 || !errors.Is(err, errWrite) {
			t.Fatalf("Write = %d, %v; want the connection's error", n, err)
		}
	})
}

// TestH2WritesBatched: with one P, as bench/run.sh runs Gatehouse, the
// answers of streams that are ready together leave in fewer writes than
// two per answer (HEADERS, then DATA, each flushed on its own, which is
// what x/net's server does without the yield).
func TestH2WritesBatched(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const streams, rounds = 10, 30
	body := strings.Repeat("x", 1024)
	lc := config.Listener{Name: "h2", H2C: true}
	e := newH2(&lc, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1024")
		io.WriteString(w, body)
	}), slog.New(slog.DiscardHandler))

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	rc := &recordConn{}
	served := make(chan struct{})
	go func() {
		defer close(served)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		rc.Conn = c
		e.serve(context.Background(), rc)
	}()
	tr := &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	get := func() error {
		resp, err := client.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && len(b) != len(body) {
			err = errors.New("short body")
		}
		return err
	}
	if err := get(); err != nil { // the connection and its SETTINGS
		t.Fatal(err)
	}
	before := rc.count()
	var failed atomic.Value
	for range rounds {
		var wg sync.WaitGroup
		for range streams {
			wg.Go(func() {
				if err := get(); err != nil {
					failed.Store(err)
				}
			})
		}
		wg.Wait()
	}
	if err, _ := failed.Load().(error); err != nil {
		t.Fatal(err)
	}
	writes := rc.count() - before
	perAnswer := float64(writes) / (streams * rounds)
	t.Logf("%d writes for %d answers: %.2f an answer", writes, streams*rounds, perAnswer)
	if perAnswer >= 1.5 {
		t.Errorf("%.2f writes an answer; want fewer than 1.5 (2 is a HEADERS and a DATA flush each)", perAnswer)
	}

	tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := e.shutdown(ctx); err != nil {
		t.Error(err)
	}
	<-served
}

// TestGrownStack: the handler runs, and growing the stack allocates
// nothing.
func TestGrownStack(t *testing.T) {
	called := 0
	g := grownStack{http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called++ })}
	r := &http.Request{ProtoMajor: 2}
	if allocs := testing.AllocsPerRun(100, func() { g.ServeHTTP(nil, r) }); allocs != 0 {
		t.Errorf("%v allocations a request; want 0", allocs)
	}
	if called != 101 {
		t.Errorf("handler called %d times; want 101", called)
	}
}
