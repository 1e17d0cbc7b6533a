package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

func TestWebSocketEcho(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "ws", testkit.WebSocketEcho())
	g := testkit.Start(t, `
routes:
  - {match: {path: /ws}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	c, res := testkit.DialWebSocket(t, "ws://"+g.Addr+"/ws/chat?room=1", http.Header{"Sec-WebSocket-Protocol": nil, "X-Client": {"yes"}})
	if res.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake status %d", res.StatusCode)
	}
	if res.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id on the 101")
	}
	for i := range 5 {
		echoOnce(t, c, websocket.MessageText, fmt.Appendf(nil, "text message %d", i))
		echoOnce(t, c, websocket.MessageBinary, []byte{0, byte(i), 0xff, '\n', 0})
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 8<<10) // 128 KiB, several frames' worth of buffer
	echoOnce(t, c, websocket.MessageBinary, big)
	c.Close(websocket.StatusNormalClosure, "done")

	req := b.Last()
	if req.RequestURI != "/ws/chat?room=1" {
		t.Errorf("backend saw %q", req.RequestURI)
	}
	for k, want := range map[string]string{"Connection": "Upgrade", "Upgrade": "websocket", "Sec-Websocket-Version": "13", "X-Client": "yes"} {
		check(t, req.Header, k, want)
	}
	if req.Header.Get("Sec-Websocket-Key") == "" {
		t.Error("backend got no Sec-WebSocket-Key")
	}
	g.Access.Wait(t, 5*time.Second, "request", "path", "/ws/chat?room=1", "status", 101)
}

// TestWebSocketIdleTimeout: upgrade_idle_timeout closes a silent tunnel,
// but not one that keeps carrying messages, however long it lives.
func TestWebSocketIdleTimeout(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "ws", testkit.WebSocketEcho())
	g := testkit.Start(t, `
upstreams:
  ws:
    targets: ["${B}"]
    upgrade_idle_timeout: 300ms
routes:
  - {match: {path: /ws}, upstream: ws}
`, testkit.Vars{"B": b.URL})

	t.Run("busy", func(t *testing.T) {
		t.Parallel()
		c, _ := testkit.DialWebSocket(t, "ws://"+g.Addr+"/ws", nil)
		start := time.Now()
		for i := 0; time.Since(start) < 1200*time.Millisecond; i++ {
			echoOnce(t, c, websocket.MessageText, fmt.Appendf(nil, "%d", i))
			time.Sleep(100 * time.Millisecond) // the traffic pattern under test, not synchronization
		}
		c.Close(websocket.StatusNormalClosure, "")
	})
	t.Run("silent", func(t *testing.T) {
		t.Parallel()
		c, _ := testkit.DialWebSocket(t, "ws://"+g.Addr+"/ws", nil)
		echoOnce(t, c, websocket.MessageText, []byte("hello"))
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _, err := c.Read(ctx)
		elapsed := time.Since(start)
		if err == nil {
			t.Fatal("read a message on a silent connection")
		}
		if ctx.Err() != nil {
			t.Fatalf("silent WebSocket still open after %s (upgrade_idle_timeout 300ms)", elapsed)
		}
		if elapsed < 250*time.Millisecond {
			t.Errorf("closed after %s, before the 300ms idle timeout: %v", elapsed, err)
		}
	})
}

// TestUpgradeResponseHeaders: a route's response_headers edit every
// response it sends, the 101 that switches to a WebSocket included.
func TestUpgradeResponseHeaders(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "ws", testkit.WebSocketEcho())
	g := testkit.Start(t, `
routes:
  - {match: {path: /ws}, upstream: "${B}", response_headers: {set: {X-Frame-Options: DENY}}}
`, testkit.Vars{"B": b.URL})

	c, res := testkit.DialWebSocket(t, "ws://"+g.Addr+"/ws", nil)
	echoOnce(t, c, websocket.MessageText, []byte("x"))
	if got := res.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("101 response: X-Frame-Options %q, want DENY: response_headers are not applied to upgrade "+
			"responses (proxy.HTTPForwarder.upgrade writes the 101 itself after hijacking, bypassing the "+
			"headers.Response writer)", got)
	}
}

// TestUpgradeRaw switches to a made-up protocol with a raw client that
// sends its first bytes in the same write as the handshake: bytes the
// proxy read ahead while parsing the request must reach the backend.
func TestUpgradeRaw(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "echo", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x-echo\r\n\r\n")
		brw.Flush()
		buf := make([]byte, 64)
		for {
			n, err := brw.Read(buf)
			if n > 0 {
				conn.Write(bytes.ToUpper(buf[:n]))
			}
			if err != nil {
				return
			}
		}
	}))
	g := testkit.Start(t, `
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	c := testkit.Dial(t, g.Addr)
	c.SendBytes(testkit.CRLF("GET /tunnel HTTP/1.1\nHost: x\nConnection: Upgrade\nUpgrade: x-echo\n\n") + "early bytes")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(c.R, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 101 || res.Header.Get("Upgrade") != "x-echo" {
		t.Fatalf("handshake: %d Upgrade %q", res.StatusCode, res.Header.Get("Upgrade"))
	}
	got := make([]byte, len("EARLY BYTES"))
	if _, err := io.ReadFull(c.R, got); err != nil || string(got) != "EARLY BYTES" {
		t.Fatalf("echo of the bytes sent with the handshake: %q, %v", got, err)
	}
	c.SendBytes("later")
	got = got[:5]
	if _, err := io.ReadFull(c.R, got); err != nil || string(got) != "LATER" {
		t.Fatalf("echo: %q, %v", got, err)
	}
}

// TestWebSocketRetry: the handshake is an idempotent GET, so a dead first
// target is skipped.
func TestWebSocketRetry(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "ws", testkit.WebSocketEcho())
	g := testkit.Start(t, `
upstreams:
  ws: {targets: ["${DEAD}", "${B}"]}
routes:
  - {match: {path: /ws}, upstream: ws}
`, testkit.Vars{"DEAD": testkit.DeadURL(t), "B": b.URL})

	c, _ := testkit.DialWebSocket(t, "ws://"+g.Addr+"/ws", nil)
	echoOnce(t, c, websocket.MessageText, []byte("through the second target"))
	c.Close(websocket.StatusNormalClosure, "")
}

// TestH2CUpgradeRefused: an h2c upgrade would give the client a raw HTTP/2
// connection to the target, past Gatehouse's routes ("h2c smuggling"). The
// request goes through as plain HTTP/1.1 without Upgrade, even to a target
// that would accept the upgrade.
func TestH2CUpgradeRefused(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "h2c", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" || r.Header.Get("Http2-Settings") != "" {
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			defer conn.Close()
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
			brw.Flush()
			return
		}
		io.WriteString(w, "plain")
	}))
	g := testkit.Start(t, `
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	c := testkit.Dial(t, g.Addr)
	c.SendBytes(testkit.CRLF("GET /admin HTTP/1.1\nHost: x\nConnection: Upgrade, HTTP2-Settings\nUpgrade: h2c\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\n\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(c.R, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || string(body) != "plain" {
		t.Fatalf("h2c upgrade: got %d %q, want 200 \"plain\" (no upgrade)", res.StatusCode, body)
	}
}
