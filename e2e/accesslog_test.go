package e2e

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

func TestAccessLog(t *testing.T) {
	t.Parallel()
	api := testkit.NewBackend(t, "api", testkit.Sized(1234))
	ws := testkit.NewBackend(t, "ws", testkit.WebSocketEcho())
	g := testkit.Start(t, `
upstreams:
  api: {targets: ["${API}"]}
routes:
  - {name: api, match: {path: /api}, upstream: api}
  - {name: ws, match: {path: /ws}, upstream: "${WS}"}
  - {name: hello, match: {path: /hello}, respond: {body: hi}}
`, testkit.Vars{"API": api.URL, "WS": ws.URL})

	res, body := g.Get("/api/items?id=7", "X-Request-ID", "acc-1", "Host", "shop.example")
	if res.StatusCode != 200 || len(body) != 1234 {
		t.Fatalf("got %d, %d bytes", res.StatusCode, len(body))
	}
	e := g.Access.Wait(t, 5*time.Second, "request", "request_id", "acc-1")
	want := map[string]string{
		"level": "INFO", "client_ip": "127.0.0.1", "method": "GET", "host": "shop.example",
		"path": "/api/items?id=7", "proto": "HTTP/1.1", "status": "200", "bytes": "1234",
		"route": "api", "upstream": "api", "target": api.URL, "request_id": "acc-1",
	}
	for k, v := range want {
		if e.Str(k) != v {
			t.Errorf("%s = %q, want %q", k, e.Str(k), v)
		}
	}
	if d, err := strconv.ParseFloat(e.Str("duration"), 64); err != nil || d <= 0 || d > 10 {
		t.Errorf("duration %q, want a positive number of seconds (a loopback request takes well under 10)", e.Str("duration"))
	}
	if _, ok := e["error"]; ok {
		t.Errorf("error %q on a successful request", e.Str("error"))
	}

	// One line per request, whatever answered it.
	for i := range 5 {
		g.Get("/hello", "X-Request-ID", "hello-"+strconv.Itoa(i))
	}
	g.Get("/nowhere", "X-Request-ID", "missing")
	g.Access.Wait(t, 5*time.Second, "request", "request_id", "missing")
	for i := range 5 {
		if n := len(g.Access.Match("request", "request_id", "hello-"+strconv.Itoa(i))); n != 1 {
			t.Errorf("hello-%d logged %d times", i, n)
		}
	}
	e = g.Access.Match("request", "request_id", "missing")[0]
	if e.Str("status") != "404" || e.Str("route") != "" || e.Str("error") == "" {
		t.Errorf("404 line %v", e)
	}
	if e = g.Access.Match("request", "request_id", "hello-0")[0]; e.Str("status") != "200" || e.Str("bytes") != "2" || e.Str("upstream") != "" {
		t.Errorf("respond line %v", e)
	}

	c, _ := testkit.DialWebSocket(t, "ws://"+g.Addr+"/ws", http.Header{"X-Request-Id": {"ws-1"}})
	echoOnce(t, c, websocket.MessageText, []byte("x"))
	c.Close(websocket.StatusNormalClosure, "")
	e = g.Access.Wait(t, 5*time.Second, "request", "request_id", "ws-1")
	if e.Str("status") != "101" || e.Str("route") != "ws" || e.Str("target") != ws.URL {
		t.Errorf("WebSocket line %v", e)
	}
	if n := len(g.Access.Entries()); n != 8 {
		t.Errorf("%d access log lines for 8 requests:\n%s", n, g.Access)
	}
}

func TestAccessLogOff(t *testing.T) {
	t.Parallel()
	g := testkit.Start(t, `
log: {access: false}
routes:
  - {match: {path: /}, respond: {body: hi}}
`, nil)
	for range 3 {
		g.Get("/")
	}
	// A respond route's small answer is buffered until the handler, access
	// log middleware included, has returned, so a line would be there now.
	if n := len(g.Access.Entries()); n != 0 {
		t.Errorf("log.access false, yet %d access lines:\n%s", n, g.Access)
	}
}

// TestInboundNotMutated: the access log reads the inbound request after
// the proxy is done with it, so it shows whether the proxy changed it: the
// path, query and Host must be the client's, not the rewritten ones sent
// upstream.
func TestInboundNotMutated(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
routes:
  - match: {path: /api}
    upstream: "${B}"
    rewrite: {replace_prefix: {from: /api, to: /internal}}
    host_header: target
    request_headers: {set: {X-Route: api}}
`, testkit.Vars{"B": b.URL})

	g.Get("/api/users?id=1", "Host", "public.example", "X-Request-ID", "m-1")
	if last := b.Last(); last.RequestURI != "/internal/users?id=1" || last.Host != b.Addr {
		t.Fatalf("backend saw %s with Host %s", last.RequestURI, last.Host)
	}
	e := g.Access.Wait(t, 5*time.Second, "request", "request_id", "m-1")
	if e.Str("path") != "/api/users?id=1" || e.Str("host") != "public.example" {
		t.Errorf("access log shows %s %s: the inbound request was changed", e.Str("host"), e.Str("path"))
	}
}
