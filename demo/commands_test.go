package demo_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/gatehouse-proxy/gatehouse/examples"
)

// demoCheck verifies that one printed command does what its description
// says, against the demo at base.
type demoCheck func(t *testing.T, base string, c command)

// checks has one entry per command `gatehouse demo` prints, keyed by the
// command without its base URL. A command printed without a check here, or
// a check for a command no longer printed, fails the test: the try-me text
// cannot drift from what the demo does.
var checks = map[string]demoCheck{
	"open /":          checkApp,
	"curl /api/hello": checkRoundRobin,
	"curl -H 'X-Forwarded-For: 6.6.6.6' /api/hello": checkSpoofedXFF,
	"curl -N /api/events":                           checkEvents,
	"curl -i /api/catalog":                          checkCached,
	"curl -i -H 'Accept-Encoding: br' /api/catalog": checkCompressed,
	"curl -X PURGE /api/catalog":                    checkPurge,
	"curl -i /api/quota":                            checkQuota,
	"curl -i /api/private":                          checkNoKey,
	"curl -i -X OPTIONS -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: POST' /api/echo": checkPreflight,
	"curl -i -X DELETE /api/hello":                              checkMethodNotAllowed,
	"curl -i -H 'X-API-Key: demo-key' /api/private":             checkKey,
	"curl -i /api/orders":                                       checkNoToken,
	"curl -i -H 'Authorization: Bearer TOKEN' /api/orders":      checkToken,
	"curl -i /api/staff":                                        checkNoSession,
	"curl -i -H 'Cookie: demo_session=demo-session' /api/staff": checkSession,
	"curl -i /assets/style.css":                                 checkStatic,
	"curl -i -H 'Range: bytes=0-9' /assets/app.js":              checkRange,
	"curl -i /old-api/time":                                     checkRedirect,
	"curl -i /api/../assets/app.js":                             checkNormalized,
	"curl -i /assets":                                           checkDirRedirect,
	"curl -i -H 'Bad Name: x' /api/hello":                       checkMalformed,
	"curl -i -H 'Transfer-Encoding: chunked' -H 'Content-Length: 3' -d abc /api/echo":                                                              checkSmuggling,
	"curl -i -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' /ws": checkWebSocket,
}

// TestDemoCommands runs `gatehouse demo` and checks every command it
// suggests.
func TestDemoCommands(t *testing.T) {
	d := startDemo(t)
	cmds := d.tryList()
	var printed []string
	for _, c := range cmds {
		printed = append(printed, c.key)
	}
	if want := slices.Sorted(maps.Keys(checks)); !slices.Equal(slices.Sorted(slices.Values(printed)), want) {
		t.Fatalf("the demo prints these commands:\n  %s\nthe test checks:\n  %s",
			strings.Join(printed, "\n  "), strings.Join(want, "\n  "))
	}
	for _, c := range cmds {
		t.Run(c.key, func(t *testing.T) { checks[c.key](t, d.base, c) })
	}
}

// client does not follow redirects, so a redirect is seen as sent.
var client = &http.Client{
	Timeout:       waitLimit,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

var requestID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// send does what the command does: GET its URL, exactly as printed (no
// dot-segment cleaning, like curl --path-as-is), with its headers. Every
// answer from Gatehouse carries a generated request ID.
func send(t *testing.T, c command, extra ...string) *http.Response {
	t.Helper()
	method := http.MethodGet
	if c.method != "" {
		method = c.method
	}
	req, err := http.NewRequest(method, c.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range c.headers {
		req.Header.Set(h[0], h[1])
	}
	for i := 0; i+1 < len(extra); i += 2 {
		req.Header.Set(extra[i], extra[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", c.key, err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if id := res.Header.Get("X-Request-Id"); !requestID.MatchString(id) {
		t.Errorf("X-Request-Id %q, want 32 hex digits", id)
	}
	return res
}

// wantHeaders requires the status and exact header values.
func wantHeaders(t *testing.T, res *http.Response, status int, kv ...string) {
	t.Helper()
	if res.StatusCode != status {
		t.Errorf("status %d, want %d", res.StatusCode, status)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if got := res.Header.Get(kv[i]); got != kv[i+1] {
			t.Errorf("%s: %q, want %q", kv[i], got, kv[i+1])
		}
	}
}

func asset(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(examples.Assets, "assets/"+name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hello is the demo API's /hello answer.
type hello struct {
	Message         string `json:"message"`
	Instance        string `json:"instance"`
	PathSeen        string `json:"path_seen"`
	ClientIP        string `json:"client_ip"`
	XForwardedFor   string `json:"x_forwarded_for"`
	XForwardedProto string `json:"x_forwarded_proto"`
	XForwardedHost  string `json:"x_forwarded_host"`
	Forwarded       string `json:"forwarded"`
	RequestID       string `json:"request_id"`
}

func getHello(t *testing.T, c command) (hello, string) {
	t.Helper()
	res := send(t, c)
	wantHeaders(t, res, 200, "Content-Type", "application/json")
	raw := readAll(t, res.Body)
	var h hello
	if err := json.Unmarshal([]byte(raw), &h); err != nil {
		t.Fatalf("body %q: %v", raw, err)
	}
	if h.Message != "hello from the demo API" || h.PathSeen != "/hello" || h.RequestID != res.Header.Get("X-Request-Id") {
		t.Errorf("answer %+v: want the demo API's hello at /hello with the request ID sent back (%s)", h, res.Header.Get("X-Request-Id"))
	}
	return h, raw
}

func checkApp(t *testing.T, base string, c command) {
	res := send(t, c)
	wantHeaders(t, res, 200, "Content-Type", "text/html; charset=utf-8", "X-Frame-Options", "DENY")
	body := readAll(t, res.Body)
	for _, part := range []string{"<title>Gatehouse demo</title>", "(path /)", `<link rel="stylesheet" href="/assets/style.css">`,
		`<script src="/assets/app.js"></script>`, `<pre id="api">`, `<pre id="sse">`, `<pre id="ws">`} {
		if !strings.Contains(body, part) {
			t.Errorf("the page lacks %s:\n%s", part, body)
		}
	}
}

func checkRoundRobin(t *testing.T, base string, c command) {
	var got []string
	for range 4 {
		h, _ := getHello(t, c)
		got = append(got, h.Instance)
	}
	if got[0] == got[1] || got[0] != got[2] || got[1] != got[3] ||
		!slices.Equal(slices.Sorted(slices.Values(got[:2])), []string{"api-1", "api-2"}) {
		t.Errorf("instances %v, want api-1 and api-2 alternating", got)
	}
}

func checkSpoofedXFF(t *testing.T, base string, c command) {
	h, raw := getHello(t, c)
	host := strings.TrimPrefix(base, "http://")
	want := hello{Message: h.Message, Instance: h.Instance, PathSeen: "/hello", ClientIP: "127.0.0.1",
		XForwardedFor: "127.0.0.1", XForwardedProto: "http", XForwardedHost: host,
		Forwarded: `for=127.0.0.1;host="` + host + `";proto=http`, RequestID: h.RequestID}
	if h != want {
		t.Errorf("the API saw %+v, want %+v", h, want)
	}
	if strings.Contains(raw, "6.6.6.6") {
		t.Errorf("the spoofed address reached the API: %s", raw)
	}
}

// checkEvents reads the first two events and requires the first to arrive
// well before the second (one a second): streamed, not buffered.
func checkEvents(t *testing.T, base string, c command) {
	res := send(t, c)
	wantHeaders(t, res, 200, "Content-Type", "text/event-stream", "Cache-Control", "no-cache")
	if res.ContentLength != -1 {
		t.Errorf("Content-Length %d: a stream has none", res.ContentLength)
	}
	br := bufio.NewReader(res.Body)
	var at [2]time.Time
	for i := range 2 {
		id, _ := br.ReadString('\n')
		data, _ := br.ReadString('\n')
		blank, err := br.ReadString('\n')
		at[i] = time.Now()
		if err != nil || id != "id: "+strconv.Itoa(i+1)+"\n" || !strings.HasPrefix(data, "data: tick "+strconv.Itoa(i+1)+" at ") || blank != "\n" {
			t.Fatalf("event %d: %q %q %q (%v), want id, data and a blank line", i+1, id, data, blank, err)
		}
	}
	if gap := at[1].Sub(at[0]); gap < 500*time.Millisecond {
		t.Errorf("the second event came %v after the first; want about 1s, each event as it is sent", gap)
	}
}

func checkStatic(t *testing.T, base string, c command) {
	res := send(t, c)
	wantHeaders(t, res, 200, "Content-Type", "text/css; charset=utf-8", "Cache-Control", "public, max-age=60")
	if body := readAll(t, res.Body); body != asset(t, "style.css") {
		t.Errorf("body differs from examples/assets/style.css:\n%s", body)
	}
	etag, lastMod := res.Header.Get("ETag"), res.Header.Get("Last-Modified")
	if !regexp.MustCompile(`^"[^"]+"$`).MatchString(etag) {
		t.Errorf("ETag %q, want a strong quoted tag", etag)
	}
	if _, err := http.ParseTime(lastMod); err != nil {
		t.Errorf("Last-Modified %q: %v", lastMod, err)
	}
	for _, cond := range [][2]string{{"If-None-Match", etag}, {"If-Modified-Since", lastMod}} {
		res := send(t, c, cond[0], cond[1])
		wantHeaders(t, res, 304, "ETag", etag)
		if body := readAll(t, res.Body); body != "" {
			t.Errorf("304 with a body: %q", body)
		}
	}
}

func checkRange(t *testing.T, base string, c command) {
	app := asset(t, "app.js")
	res := send(t, c)
	wantHeaders(t, res, 206, "Content-Range", "bytes 0-9/"+strconv.Itoa(len(app)), "Content-Length", "10")
	if body := readAll(t, res.Body); body != app[:10] {
		t.Errorf("body %q, want %q", body, app[:10])
	}
}

func checkRedirect(t *testing.T, base string, c command) {
	res := send(t, c)
	wantHeaders(t, res, 308, "Location", "/api/time")
	if body := readAll(t, res.Body); body != "" {
		t.Errorf("redirect body %q, want none", body)
	}
	res = send(t, command{key: "GET /api/time", url: base + "/api/time"})
	wantHeaders(t, res, 200, "Content-Type", "application/json")
	var got struct{ Instance, Time string }
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if _, err := time.Parse(time.RFC3339Nano, got.Time); err != nil || !strings.HasPrefix(got.Instance, "api-") {
		t.Errorf("the redirect's target answered %+v, want the API's time", got)
	}
}

func checkNormalized(t *testing.T, base string, c command) {
	if !strings.Contains(c.url, "/../") {
		t.Fatalf("%s: the command no longer sends a dot segment", c.url)
	}
	res := send(t, c) // sent raw, as curl --path-as-is does
	wantHeaders(t, res, 200, "Content-Type", "text/javascript; charset=utf-8")
	if body := readAll(t, res.Body); body != asset(t, "app.js") {
		t.Errorf("body is not examples/assets/app.js:\n%s", body)
	}
}

func checkWebSocket(t *testing.T, base string, c command) {
	method := http.MethodGet
	if c.method != "" {
		method = c.method
	}
	req, err := http.NewRequest(method, c.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range c.headers {
		req.Header.Set(h[0], h[1])
	}
	// Not the shared client: its timeout would hide that a 101's body is
	// the connection itself.
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	// The accept value for the key the command sends (RFC 6455, 1.3).
	wantHeaders(t, res, 101, "Upgrade", "websocket", "Connection", "Upgrade",
		"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
	conn, ok := res.Body.(io.ReadWriteCloser)
	if !ok {
		t.Fatalf("the 101 answer did not hand over the connection (%T)", res.Body)
	}
	// One masked text frame "hi"; the echo service sends it back unmasked.
	mask := [4]byte{1, 2, 3, 4}
	frame := []byte{0x81, 0x80 | 2, mask[0], mask[1], mask[2], mask[3], 'h' ^ mask[0], 'i' ^ mask[1]}
	if _, err := conn.Write(frame); err != nil {
		t.Fatalf("writing a frame: %v", err)
	}
	got := make([]byte, 4)
	done := make(chan error, 1)
	go func() { _, err := io.ReadFull(conn, got); done <- err }()
	select {
	case err := <-done:
		if err != nil || string(got) != "\x81\x02hi" {
			t.Errorf("echo frame %q (%v), want %q", got, err, "\x81\x02hi")
		}
	case <-time.After(waitLimit):
		t.Errorf("no echo frame within %v", waitLimit)
	}
}

// TestDemoReloads: SIGHUP makes the demo load its config again, and it
// keeps serving.
func TestDemoReloads(t *testing.T) {
	d := startDemo(t)
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	d.await("a second \"configuration applied\"", func() bool {
		n := 0
		for _, l := range d.lines {
			if strings.Contains(l, `msg="configuration applied"`) {
				n++
			}
		}
		return n == 2
	})
	h, _ := getHello(t, command{key: "GET /api/hello", url: d.base + "/api/hello"})
	if h.Instance != "api-1" && h.Instance != "api-2" {
		t.Errorf("after the reload the API answered from %q", h.Instance)
	}
}

func checkDirRedirect(t *testing.T, base string, c command) {
	res := send(t, c)
	wantHeaders(t, res, 301, "Location", "./assets/")
}

// checkMalformed sends the request as curl does, by hand: Go's client
// refuses a header name with a space.
func checkMalformed(t *testing.T, base string, c command) {
	res, body, _ := rawExchange(t, c, func(host, uri string) string {
		return fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\n%s: %s\r\n\r\n", uri, host, c.headers[0][0], c.headers[0][1])
	})
	wantHeaders(t, res, 400, "X-Content-Type-Options", "nosniff", "Content-Type", "text/plain; charset=utf-8")
	if body != "400 bad request\n" || !res.Close {
		t.Errorf("body %q, close %v; want the funnel's text and the connection closed", body, res.Close)
	}
}

// rawExchange sends the bytes request returns for the command's host
// and target on a new connection, as the command would but exactly, and
// returns the answer, its body and whatever came after it before the
// connection closed.
func rawExchange(t *testing.T, c command, request func(host, uri string) string) (*http.Response, string, string) {
	t.Helper()
	u, err := url.Parse(c.url)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(waitLimit))
	io.WriteString(conn, request(u.Host, u.RequestURI()))
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, res.Body)
	rest, _ := io.ReadAll(br)
	return res, body, string(rest)
}

// checkSmuggling: a body framed both by Content-Length and chunked, as
// curl sends that command, is refused with the funnel's 400 and the
// connection closed: the rest of the bytes could be read as a request.
func checkSmuggling(t *testing.T, base string, c command) {
	res, body, rest := rawExchange(t, c, func(host, uri string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\n", uri, host)
		for _, h := range c.headers {
			fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
		}
		fmt.Fprintf(&b, "\r\n%x\r\n%s\r\n0\r\n\r\nGET /api/hello HTTP/1.1\r\nHost: %s\r\n\r\n", len(c.data), c.data, host)
		return b.String()
	})
	wantHeaders(t, res, 400, "X-Content-Type-Options", "nosniff")
	if body != "400 bad request\n" || !res.Close {
		t.Errorf("body %q, close %v; want the funnel's text and the connection closed", body, res.Close)
	}
	if rest != "" {
		t.Errorf("bytes after the refusal: %q; the request after it must never be served", rest)
	}
}

// checkCached: the first answer is a miss that was stored, the next a hit
// with an Age, and both are the same answer.
func checkCached(t *testing.T, base string, c command) {
	res := send(t, c)
	first := readAll(t, res.Body)
	if cs := res.Header.Get("Cache-Status"); !strings.Contains(cs, "fwd=uri-miss") || !strings.Contains(cs, "stored") {
		t.Errorf("first answer: Cache-Status %q, want a stored miss", cs)
	}
	res = send(t, c)
	if cs := res.Header.Get("Cache-Status"); !strings.Contains(cs, "hit") {
		t.Errorf("second answer: Cache-Status %q, want a hit", cs)
	}
	if _, err := strconv.Atoi(res.Header.Get("Age")); err != nil {
		t.Errorf("hit without an Age header: %q", res.Header.Get("Age"))
	}
	if second := readAll(t, res.Body); second != first || !strings.Contains(first, `"items"`) {
		t.Errorf("the hit differs from the miss:\n%s\n%s", first, second)
	}
}

// checkCompressed: the catalog comes brotli-compressed, marked as varying
// by Accept-Encoding, and decodes to the same JSON.
func checkCompressed(t *testing.T, base string, c command) {
	for range 2 {
		res := send(t, c)
		wantHeaders(t, res, 200, "Content-Encoding", "br")
		if v := res.Header.Get("Vary"); !strings.Contains(v, "Accept-Encoding") {
			t.Errorf("Vary %q, want Accept-Encoding", v)
		}
		raw, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(brotli.NewReader(bytes.NewReader(raw)))
		if err != nil || !json.Valid(plain) || len(raw) >= len(plain) {
			t.Errorf("body: %d bytes decoding to %d (%v), want smaller valid JSON", len(raw), len(plain), err)
		}
	}
}

// checkPurge: PURGE from this machine drops the stored catalog, so the
// next GET is a miss.
func checkPurge(t *testing.T, base string, c command) {
	get := command{key: "curl " + c.url, url: c.url}
	send(t, get) // make sure something is stored
	res := send(t, c)
	wantHeaders(t, res, 200, "Content-Type", "application/json")
	if body := readAll(t, res.Body); !strings.Contains(body, `"purged":1`) {
		t.Errorf("PURGE answered %q", body)
	}
	res = send(t, get)
	if cs := res.Header.Get("Cache-Status"); !strings.Contains(cs, "miss") {
		t.Errorf("after PURGE: Cache-Status %q, want a miss", cs)
	}
}

// checkQuota: three answers a minute, each saying what is left, then a
// 429 that says when to come back.
func checkQuota(t *testing.T, base string, c command) {
	for i, want := range []string{`"quota";r=2;t=20`, `"quota";r=1;t=40`, `"quota";r=0;t=60`} {
		res := send(t, c)
		readAll(t, res.Body)
		if res.StatusCode != http.StatusOK || res.Header.Get("RateLimit") != want {
			t.Errorf("try %d: %d, RateLimit %q; want 200, %q", i+1, res.StatusCode, res.Header.Get("RateLimit"), want)
		}
		if p := res.Header.Get("RateLimit-Policy"); p != `"quota";q=3;w=60` {
			t.Errorf("try %d: RateLimit-Policy %q", i+1, p)
		}
	}
	res := send(t, c)
	body := readAll(t, res.Body)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "20" || res.Header.Get("RateLimit") != `"quota";r=0;t=20` {
		t.Errorf("4th try: %d, Retry-After %q, RateLimit %q, body %q; want 429, 20, r=0;t=20", res.StatusCode, res.Header.Get("Retry-After"), res.Header.Get("RateLimit"), body)
	}
}

// checkNoKey: without a key the private API answers 401 from Gatehouse.
func checkNoKey(t *testing.T, base string, c command) {
	res := send(t, c)
	body := readAll(t, res.Body)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "unauthorized") {
		t.Errorf("%d %q, want the funnel's 401", res.StatusCode, body)
	}
}

// checkKey: with the key the API answers, told the caller's identity and
// not the key; a forged identity header is replaced.
func checkKey(t *testing.T, base string, c command) {
	res := send(t, c, "X-Auth-User", "admin")
	body := readAll(t, res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `"x_auth_user": "demo-client"`) || !strings.Contains(body, `"x_api_key": ""`) {
		t.Errorf("%d %s; want 200 with x_auth_user demo-client and no key", res.StatusCode, body)
	}
}

// checkNoToken: without a token the orders API answers 401 from
// Gatehouse with the Bearer challenge.
func checkNoToken(t *testing.T, base string, c command) {
	res := send(t, c)
	readAll(t, res.Body)
	if res.StatusCode != http.StatusUnauthorized || res.Header.Get("Www-Authenticate") != `Bearer realm="Gatehouse"` {
		t.Errorf("%d, WWW-Authenticate %q; want 401 with Bearer realm=\"Gatehouse\"", res.StatusCode, res.Header.Get("Www-Authenticate"))
	}
}

// checkToken: with the printed token the API answers, told the user and
// scope and not given the token; a forged identity header is replaced,
// and the same token with one signature byte changed is a 401.
func checkToken(t *testing.T, base string, c command) {
	res := send(t, c, "X-Auth-User", "admin")
	body := readAll(t, res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `"x_auth_user": "demo-user"`) ||
		!strings.Contains(body, `"x_auth_scope": "profile orders:read"`) || !strings.Contains(body, `"authorization": ""`) {
		t.Errorf("%d %s; want 200 with x_auth_user demo-user, the scope and no token", res.StatusCode, body)
	}
	forged := c
	forged.headers = nil
	for _, h := range c.headers {
		if h[0] == "Authorization" {
			v := []byte(h[1])
			if v[len(v)-2] == 'A' {
				v[len(v)-2] = 'B'
			} else {
				v[len(v)-2] = 'A'
			}
			h[1] = string(v)
		}
		forged.headers = append(forged.headers, h)
	}
	res = send(t, forged)
	readAll(t, res.Body)
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a token with a changed signature: %d, want 401", res.StatusCode)
	}
}

// checkNoSession: without a session the auth service's redirect to its
// login page reaches the client as the service sent it (status,
// Location, body), the API never asked.
func checkNoSession(t *testing.T, base string, c command) {
	res := send(t, c)
	body := readAll(t, res.Body)
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusFound || !strings.HasSuffix(strings.SplitN(loc, "?", 2)[0], "/login") ||
		!strings.Contains(loc, "rd="+url.QueryEscape(base+"/api/staff")) || !strings.Contains(body, "log in first") {
		t.Errorf("%d, Location %q, body %q; want the auth service's 302 to its login page, back to /api/staff", res.StatusCode, loc, body)
	}
}

// checkSession: with the session cookie the API answers, told the user
// and groups the auth service named (a client's own X-Auth-User is
// replaced).
func checkSession(t *testing.T, base string, c command) {
	res := send(t, c, "X-Auth-User", "admin", "X-Auth-Groups", "root")
	body := readAll(t, res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `"x_auth_user": "sso-user"`) || !strings.Contains(body, `"x_auth_groups": "staff"`) {
		t.Errorf("%d %s; want 200 with x_auth_user sso-user and x_auth_groups staff", res.StatusCode, body)
	}
}

// checkPreflight: Gatehouse answers the preflight itself, allowing the
// origin and the method.
func checkPreflight(t *testing.T, base string, c command) {
	res := send(t, c)
	readAll(t, res.Body)
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "POST") || res.Header.Get("Access-Control-Max-Age") != "600" {
		t.Errorf("%d %v; want 204 allowing https://app.example.com and POST for 600 s", res.StatusCode, res.Header)
	}
}

// checkMethodNotAllowed: a method outside request_limits.methods is a
// 405 naming the allowed ones.
func checkMethodNotAllowed(t *testing.T, base string, c command) {
	res := send(t, c)
	readAll(t, res.Body)
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD, POST, PURGE" {
		t.Errorf("%d, Allow %q; want 405 with GET, HEAD, POST, PURGE", res.StatusCode, res.Header.Get("Allow"))
	}
}
