package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// rawConn is one client TCP connection, so a test knows requests share it.
type rawConn struct {
	t    *testing.T
	addr string
	c    net.Conn
	br   *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, addr: addr, c: c, br: bufio.NewReader(c)}
}

// get sends GET path on the connection and requires 200 from backend be
// under config label, with the connection kept open.
func (rc *rawConn) get(path, label string, be *backend) {
	rc.t.Helper()
	rc.c.SetDeadline(time.Now().Add(waitLimit))
	if _, err := io.WriteString(rc.c, "GET "+path+" HTTP/1.1\r\nHost: "+rc.addr+"\r\n\r\n"); err != nil {
		rc.t.Fatalf("keep-alive connection: writing a request: %v", err)
	}
	res, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		rc.t.Fatalf("keep-alive connection: reading the response: %v", err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		rc.t.Fatalf("keep-alive connection: reading the body: %v", err)
	}
	if res.StatusCode != 200 || res.Header.Get("X-Config") != label || string(body) != "hello from "+be.name+"\n" || res.Close {
		rc.t.Fatalf("keep-alive connection: %d X-Config %q body %q close %v; want 200 %q %q, kept open",
			res.StatusCode, res.Header.Get("X-Config"), body, res.Close, label, "hello from "+be.name+"\n")
	}
}

// wantRefused requires that nothing accepts connections at addr.
func wantRefused(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, waitLimit)
	if err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want connection refused", addr, err)
	}
}

// TestListenerChangeOnReload adds a second listener by reload, then
// removes it; a keep-alive connection on the unchanged listener serves
// requests before, between and after, each with the current config.
func TestListenerChangeOnReload(t *testing.T) {
	dir := t.TempDir()
	be := newBackend(t, "blue")
	conf := func(addr, addr2, label string) string {
		return site{addr: addr, addr2: addr2, label: label, upstream: "pool", target: be}.String()
	}
	p, addr := startRun(t, dir, func(a string) string { return conf(a, "", "A") })
	path := filepath.Join(dir, "gatehouse.yaml")
	raw := dialRaw(t, addr)
	raw.get("/hello", "A", be)

	addr2 := freeAddr(t)
	writeFile(t, path, conf(addr, addr2, "B"))
	p.reload()
	p.waitFor("listening", "address", addr2)
	wantServed(t, "http://"+addr2+"/hello", "B", be)
	raw.get("/hello", "B", be)

	writeFile(t, path, conf(addr, "", "C"))
	p.reload()
	p.waitFor("stopped listening", "address", addr2)
	wantRefused(t, addr2)
	raw.get("/hello", "C", be)
	wantServed(t, "http://"+addr+"/hello", "C", be)
	p.stop()
}

// TestWebSocketSurvivesReload keeps one WebSocket open through the proxy
// across reloads that change the routes, the WebSocket upstream's
// transport settings and the listener's settings.
func TestWebSocketSurvivesReload(t *testing.T) {
	dir := t.TempDir()
	blue, echo := newBackend(t, "blue"), newBackend(t, "echo")
	p, addr := startRun(t, dir, func(a string) string {
		return site{addr: a, label: "A", upstream: "pool", target: blue, echo: echo}.String()
	})
	path := filepath.Join(dir, "gatehouse.yaml")
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	ws := dialWS(ctx, t, addr)
	exchange(ctx, t, ws, "before any reload")

	for _, step := range []struct {
		name string
		site site
	}{
		{"routes change", site{addr: addr, label: "B", upstream: "pool", target: blue, echo: echo}},
		{"echo upstream's transport changes", site{addr: addr, label: "B", upstream: "pool", target: blue, echo: echo, echoDial: "3s"}},
		{"listener settings change", site{addr: addr, label: "B", upstream: "pool", target: blue, echo: echo, echoDial: "3s", idleTimeout: "60s"}},
	} {
		writeFile(t, path, step.site.String())
		p.reload()
		exchange(ctx, t, ws, "after the "+step.name)
		fresh := dialWS(ctx, t, addr)
		exchange(ctx, t, fresh, "new socket after the "+step.name)
		fresh.Close(websocket.StatusNormalClosure, "")
	}
	wantServed(t, "http://"+addr+"/hello", "B", blue)
	if err := ws.Close(websocket.StatusNormalClosure, "done"); err != nil {
		t.Errorf("closing the WebSocket: %v", err)
	}
	p.stop()
}

func dialWS(ctx context.Context, t *testing.T, addr string) *websocket.Conn {
	t.Helper()
	c, res, err := websocket.Dial(ctx, "ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatalf("WebSocket through the proxy: %v", err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols || res.Header.Get("X-Backend") != "echo" {
		t.Fatalf("WebSocket handshake: %d X-Backend %q, want 101 from echo", res.StatusCode, res.Header.Get("X-Backend"))
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// exchange sends msg and requires it echoed back.
func exchange(ctx context.Context, t *testing.T, c *websocket.Conn, msg string) {
	t.Helper()
	if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		t.Fatalf("WebSocket write %q: %v", msg, err)
	}
	typ, got, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("WebSocket read after %q: %v", msg, err)
	}
	if typ != websocket.MessageText || string(got) != msg {
		t.Fatalf("WebSocket echoed %v %q, want text %q", typ, got, msg)
	}
}

// TestSighupRightAfterListening: a supervisor may reload as soon as the
// port accepts connections. That SIGHUP must reload, not kill the process.
func TestSighupRightAfterListening(t *testing.T) {
	dir := t.TempDir()
	be := newBackend(t, "blue")
	path := filepath.Join(dir, "gatehouse.yaml")
	addr := freeAddr(t)
	writeFile(t, path, site{addr: addr, label: "A", upstream: "pool", target: be}.String())
	p := start(t, dir, "run", "-config", path)
	p.waitMsg("listening", 1)
	p.signal(sighup)
	p.waitMsg("configuration applied", 2)
	wantServed(t, "http://"+addr+"/hello", "A", be)
	p.stop()
}
