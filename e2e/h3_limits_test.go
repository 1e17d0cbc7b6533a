package e2e

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestHTTP3StalledHeadersReset: a request stream whose HEADERS frame never
// completes is reset after read_header_timeout, as a TCP connection is
// closed, while the client keeps its QUIC connection alive; a request on
// the same connection afterwards is still served. quic-go's http3.Server
// sets no such deadline, so without Gatehouse's own serving loop the
// stream would stay open for as long as the client wished.
func TestHTTP3StalledHeadersReset(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", testkit.Echo())
	s := newTLSSetup(t, b.URL)
	g := testkit.Start(t, `
listeners: [{address: "${LISTEN}", tls: {}, http3: true, read_header_timeout: 300ms, idle_timeout: 10s}]
`+tlsCerts+`
routes: [{upstream: "${B}"}]
`, s.vars)
	conf := s.ca.ClientTLS("site.test", nil)
	conf.NextProtos = []string{"h3"}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := quic.DialAddr(ctx, g.Addr, conf, &quic.Config{KeepAlivePeriod: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseWithError(0, "")
	str, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A HEADERS frame (type 0x01) announcing 64 bytes, of which 3 arrive.
	if _, err := str.Write([]byte{0x01, 0x40, 0x40, 0x00, 0x00, 0xd1}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	str.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.Copy(io.Discard, str)
	var se *quic.StreamError
	if took := time.Since(start); !errors.As(err, &se) || took > 3*time.Second {
		t.Fatalf("stalled header block: stream ended after %s with %v, want a reset after about 300ms", took, err)
	}
	if b.Hits() != 0 {
		t.Errorf("an incomplete request reached the backend")
	}
	if conn.Context().Err() != nil {
		t.Fatal("the connection was closed, not just the stalled stream")
	}
	c := testkit.HTTPSClient(t, g.Addr, testkit.HTTP3, s.ca.ClientTLS("site.test", nil))
	res, err := c.Get("https://site.test/after")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("a complete request after the stalled one: %d", res.StatusCode)
	}
}
