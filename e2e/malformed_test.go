package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestMalformedRequests sends requests no backend should ever see; they
// are answered by net/http's parser (400, 431, 501, 505) or by Gatehouse's
// path check (400), and the backend hit counter stays 0.
func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	cases := []struct {
		name, req string
		want      int
	}{
		{"bad percent-encoding", "GET /api/%zz HTTP/1.1\nHost: x\n\n", 400},
		{"truncated escape", "GET /api/% HTTP/1.1\nHost: x\n\n", 400},
		{"encoded NUL", "GET /api/a%00b HTTP/1.1\nHost: x\n\n", 400},
		{"encoded NUL in a dot-dot path", "GET /api/..%00/x HTTP/1.1\nHost: x\n\n", 400},
		{"raw control byte", "GET /api/a\x01b HTTP/1.1\nHost: x\n\n", 400},
		{"invalid request line", "GARBAGE\n\n", 400},
		{"no protocol version", "GET /api\nHost: x\n\n", 400},
		{"unknown protocol version", "GET /api HTTP/9.9\nHost: x\n\n", 505},
		{"relative target", "GET api HTTP/1.1\nHost: x\n\n", 400},
		{"missing Host", "GET /api HTTP/1.1\n\n", 400},
		{"two Hosts", "GET /api HTTP/1.1\nHost: a\nHost: b\n\n", 400},
		{"conflicting Content-Length", "POST /api HTTP/1.1\nHost: x\nContent-Length: 1\nContent-Length: 2\n\nab", 400},
		{"unsupported transfer coding", "POST /api HTTP/1.1\nHost: x\nTransfer-Encoding: gzip, chunked\n\n0\n\n", 501},
		{"header without colon", "GET /api HTTP/1.1\nHost: x\nNoColon\n\n", 400},
		{"space before colon", "GET /api HTTP/1.1\nHost: x\nX-Bad : y\n\n", 400},
		{"CONNECT authority-form", "CONNECT example.com:443 HTTP/1.1\nHost: example.com:443\n\n", 400},
		{"asterisk-form with GET", "GET * HTTP/1.1\nHost: x\n\n", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, body := testkit.RoundTrip(t, g.Addr, tc.req)
			if res.StatusCode != tc.want {
				t.Errorf("status %d %q, want %d", res.StatusCode, body, tc.want)
			}
		})
	}
	if n := b.Hits(); n != 0 {
		t.Errorf("the backend received %d malformed requests: %v", n, b.Requests())
	}
}

// TestOptionsAsterisk: "OPTIONS *" asks about the server itself. It never
// reaches a backend; net/http's built-in handler answers it (200, empty
// body) before Gatehouse sees it, so it has no request ID and no access
// log line. (A 4xx from Gatehouse would be just as acceptable; what matters
// is that it is not forwarded.)
func TestOptionsAsterisk(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	res, body := testkit.RoundTrip(t, g.Addr, "OPTIONS * HTTP/1.1\nHost: x\n\n")
	if res.StatusCode >= 300 && res.StatusCode < 400 || res.StatusCode >= 500 {
		t.Errorf("OPTIONS *: %d %q", res.StatusCode, body)
	}
	if body != "" {
		t.Errorf("OPTIONS *: body %q", body)
	}
	if b.Hits() != 0 {
		t.Errorf("OPTIONS * was forwarded: %v", b.Requests())
	}
}

// TestAbsoluteForm: a request-target in absolute form carries the host, and
// (RFC 9112 section 3.2.2) it wins over the Host header; Gatehouse routes
// by it like by any Host, and sends the request to the route's target, never
// to the host named in the URL: it is not an open forward proxy.
func TestAbsoluteForm(t *testing.T) {
	t.Parallel()
	app := testkit.NewBackend(t, "app", nil)
	g := testkit.Start(t, `
routes:
  - {match: {host: app.local}, upstream: "${APP}"}
`, testkit.Vars{"APP": app.URL})

	t.Run("for another host", func(t *testing.T) {
		res, _ := testkit.RoundTrip(t, g.Addr, "GET http://evil.example/x HTTP/1.1\nHost: app.local\n\n")
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("status %d, want 404: routed by the URL's host evil.example, which has no route", res.StatusCode)
		}
		if app.Hits() != 0 {
			t.Errorf("forwarded to app: %v", app.Requests())
		}
	})
	t.Run("for the routed host", func(t *testing.T) {
		res, body := testkit.RoundTrip(t, g.Addr, "GET http://app.local/x?q=1 HTTP/1.1\nHost: evil.example\n\n")
		if res.StatusCode != 200 || body != "app" {
			t.Fatalf("got %d %q, want 200 from app", res.StatusCode, body)
		}
		last := app.Last()
		if last.Host != "app.local" || last.RequestURI != "/x?q=1" {
			t.Errorf("app saw Host %q target %q, want app.local and origin-form /x?q=1", last.Host, last.RequestURI)
		}
	})
	t.Run("scheme other than http", func(t *testing.T) {
		// Gatehouse's engine refuses a scheme other than http and https
		// (server/h1/differences.md). net/http accepts any, and Gatehouse
		// does not look at it: the request still goes only to the route's
		// target, in origin form, as plain HTTP.
		res, _ := testkit.RoundTrip(t, g.Addr, "GET ftp://app.local/y HTTP/1.1\nHost: app.local\n\n")
		if testkit.Engine() == config.EngineGatehouse {
			if res.StatusCode != 400 || app.Hits() != 1 {
				t.Errorf("status %d, backend hits %d; want 400 and only the earlier request forwarded", res.StatusCode, app.Hits())
			}
			return
		}
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		last := app.Last()
		if last.RequestURI != "/y" || last.Header.Get("X-Forwarded-Proto") != "http" {
			t.Errorf("app saw %q with X-Forwarded-Proto %q", last.RequestURI, last.Header.Get("X-Forwarded-Proto"))
		}
	})
}

// TestConnectWithPath: CONNECT is a request to open a tunnel; a proxy that
// is not a forward proxy must refuse it, whatever its target looks like.
// (Gatehouse used to forward "CONNECT /path" to the route's target.)
func TestConnectWithPath(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	// net/http parses "CONNECT /path" (unlike "CONNECT host:port") into a
	// URL with a path, so it routes like any request unless refused.
	res, body := testkit.RoundTrip(t, g.Addr, "CONNECT /api HTTP/1.1\nHost: x\n\n")
	if res.StatusCode < 400 || res.StatusCode >= 500 {
		t.Errorf("CONNECT /api: %d %q, want 4xx: CONNECT requests whose target is a path are forwarded "+
			"(gateway dispatch must refuse the CONNECT method)", res.StatusCode, body)
	}
	if b.Hits() != 0 {
		r := b.Last()
		t.Errorf("CONNECT reached the backend as %s %s", r.Method, r.RequestURI)
	}
}

// TestPipelining sends requests back to back on one connection, the first
// with both Transfer-Encoding and Content-Length (the classic smuggling
// shape). Gatehouse must parse them exactly as it forwards them: the
// backend sees one request per response the client gets, in order, and
// never a request hidden in another's body.
func TestPipelining(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	g := testkit.Start(t, `
routes:
  - {match: {path: /}, upstream: "${B}"}
`, testkit.Vars{"B": b.URL})

	c := testkit.Dial(t, g.Addr)
	c.Send("POST /first HTTP/1.1\nHost: x\nContent-Length: 30\nTransfer-Encoding: chunked\n\n" +
		"0\n\n" +
		"GET /second HTTP/1.1\nHost: x\n\n" +
		"GET /third HTTP/1.1\nHost: x\n\n")
	if testkit.Engine() == config.EngineGatehouse {
		// Gatehouse's engine refuses the ambiguous message and closes:
		// nothing after it can be trusted to start a request (RFC 9112
		// section 6.1; server/h1/differences.md).
		if res, _ := c.ReadResponse("POST"); res.StatusCode != 400 || !res.Close {
			t.Fatalf("Content-Length with Transfer-Encoding: %d (close %v), want 400 and the connection closed", res.StatusCode, res.Close)
		}
		c.ExpectClosed(t)
		if n := b.Hits(); n != 0 {
			t.Errorf("backend got %d requests, want none: %v", n, b.Requests())
		}
		return
	}
	// net/http takes the chunked framing and drops Content-Length.
	for i := range 3 {
		if res, body := c.ReadResponse("GET"); res.StatusCode != 200 || body != "b" {
			t.Fatalf("response %d: %d %q", i, res.StatusCode, body)
		}
	}
	reqs := b.Requests()
	var got []string
	for _, r := range reqs {
		got = append(got, r.Method+" "+r.RequestURI+" "+string(r.Body))
	}
	want := []string{"POST /first ", "GET /second ", "GET /third "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("backend saw %q, want %q", got, want)
	}
	if cl := reqs[0].Header.Get("Content-Length"); cl != "" {
		t.Errorf("Content-Length %q forwarded next to chunked", cl)
	}
}
