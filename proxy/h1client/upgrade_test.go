package h1client_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/proxy"
	"github.com/gatehouse-proxy/gatehouse/proxy/h1client"
)

// TestUpgrade: a 101 hands the connection over to a tunnel: bytes go both
// ways, including those the target sent in the same packet as its 101,
// and the connection never returns to the pool.
func TestUpgrade(t *testing.T) {
	b := newBackend(t, func(c *bconn) {
		r, err := c.readHead()
		if err != nil {
			return
		}
		if !proxy.HasToken(r.Header["Connection"], "upgrade") || r.Header.Get("Upgrade") != "websocket" {
			c.write(okResp)
			answer(okResp)(c)
			return
		}
		// One write: the first frame rides with the 101.
		c.write("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-Target: 1\r\n\r\nhello")
		io.Copy(c.Conn, c.br) // echo until the tunnel closes
	})
	ups := proxy.NewUpgrades()
	f := h1client.New(testOpts(), ups)
	t.Cleanup(f.Close)
	fr := newFront(t, f, b.target())

	c, err := net.Dial("tcp", strings.TrimPrefix(fr.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: front\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, &http.Request{Method: "GET"})
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 101 || res.Header.Get("Upgrade") != "websocket" || res.Header.Get("X-Target") != "1" {
		t.Fatalf("got %d %v", res.StatusCode, res.Header)
	}
	first := make([]byte, 5)
	if _, err := io.ReadFull(br, first); err != nil || string(first) != "hello" {
		t.Fatalf("first bytes %q, %v; want those sent with the 101", first, err)
	}
	if n := ups.Len(); n != 1 {
		t.Errorf("%d tunnels tracked, want 1", n)
	}
	for _, msg := range []string{"ping", strings.Repeat("x", 100000)} {
		if _, err := io.WriteString(c, msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(br, got); err != nil || string(got) != msg {
			t.Fatalf("echo of %d bytes: %v", len(msg), err)
		}
	}
	c.Close()
	if err := fr.result(t); err != nil {
		t.Errorf("Forward: %v", err)
	}
	if err := waitUpgrades(ups); err != nil {
		t.Error(err)
	}
	mustGet(t, f, b, "/") // a new connection: the upgraded one is the tunnel's
	if a := b.accepts.Load(); a != 2 {
		t.Errorf("%d connections, want 2", a)
	}
}

func waitUpgrades(ups *proxy.Upgrades) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return ups.Wait(ctx)
}

// TestUpgradeNotAsked: a 101 the client did not ask for is an error, not
// a tunnel.
func TestUpgradeNotAsked(t *testing.T) {
	b := newBackend(t, func(c *bconn) {
		if _, err := c.read(); err != nil {
			return
		}
		c.write("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
		c.waitClose()
	})
	f := newForwarder(t, testOpts())
	rec, _, _, err := forward(f, b, newOut("GET", "/", nil, 0))
	if err == nil || !strings.Contains(err.Error(), "switched protocols") {
		t.Fatalf("error %v, want a refusal of the unasked switch", err)
	}
	if pe := proxyError(t, err); pe.Phase != proxy.PhaseRequest || rec.wrote {
		t.Errorf("phase %v wrote %v", pe.Phase, rec.wrote)
	}
	b.waitPeerClosed(t, 1)
}
