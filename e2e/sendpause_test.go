package e2e

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// pausingBackend answers /pause/N[/typed] with N bytes: half, a pause of
// a second, the rest; with a Content-Type only when the path ends in
// /typed (the engine splices only a typed body).
func pausingBackend() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, typed := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/pause/"), "/typed")
		n, _ := strconv.Atoi(p)
		if typed {
			w.Header().Set("Content-Type", "application/octet-stream")
		} else {
			w.Header()["Content-Type"] = nil // no sniffing
		}
		w.Header().Set("Content-Length", strconv.Itoa(n))
		body := pattern(n)
		w.Write(body[:n/2])
		w.(http.Flusher).Flush()
		time.Sleep(time.Second)
		w.Write(body[n/2:])
	})
}

// TestTargetPauseWithinReadTimeout: the target pauses for a second in
// the middle of a body, longer than the listener's send_timeout (300ms)
// but within the upstream's read_timeout (3s), while the client reads
// all the time: the answer arrives whole, spliced or copied. A body that
// could be spliced but was copied (TLS, no Content-Type) once had its
// write deadline moved only before each wait for the target, so the
// write after a long pause failed at once (found in review; half the
// body, then "i/o timeout").
func TestTargetPauseWithinReadTimeout(t *testing.T) {
	b := testkit.NewBackend(t, "b", pausingBackend())
	s := newTLSSetup(t, b.URL)
	g := testkit.Start(t, `
listeners:
  - {address: "${LISTEN}", client_body_timeout: 300ms, send_timeout: 300ms}
  - {address: "127.0.0.2:0", tls: {}, client_body_timeout: 300ms, send_timeout: 300ms}
limits: {max_body_bytes: 0}
`+tlsCerts+`
upstreams:
  pool: {targets: ["${B}"], read_timeout: 3s, send_timeout: 3s}
routes:
  - {match: {path: /}, upstream: pool}
`, s.vars)
	https := testkit.HTTPSClient(t, g.AddrOf("127.0.0.2:0"), testkit.HTTP1, s.ca.ClientTLS("site.test", nil))
	plain := testkit.NewClient()
	for _, tc := range []struct {
		name string
		c    *http.Client
		url  string
	}{
		{"plain/typed-1MiB-spliced", plain, "http://" + g.Addr + "/pause/1048576/typed"},
		{"plain/untyped-1MiB-copied", plain, "http://" + g.Addr + "/pause/1048576"},
		{"plain/untyped-32KiB", plain, "http://" + g.Addr + "/pause/32768"},
		{"https/typed-1MiB-copied", https, "https://site.test/pause/1048576/typed"},
		{"https/typed-32KiB", https, "https://site.test/pause/32768/typed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.c.Get(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			n, err := io.Copy(io.Discard, res.Body)
			if res.StatusCode != 200 || err != nil || n != res.ContentLength {
				t.Errorf("%d: %d of %d bytes: %v; want the whole body", res.StatusCode, n, res.ContentLength, err)
			}
		})
	}
}
