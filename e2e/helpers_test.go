package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// newBackends starts one Echo backend per name and returns them with Vars
// mapping each upper-cased name to its URL.
func newBackends(t *testing.T, names ...string) (map[string]*testkit.Backend, testkit.Vars) {
	t.Helper()
	bs := map[string]*testkit.Backend{}
	vars := testkit.Vars{}
	for _, n := range names {
		b := testkit.NewBackend(t, n, nil)
		bs[n] = b
		vars[strings.ToUpper(n)] = b.URL
	}
	return bs, vars
}

// assetsDir writes files (name -> content) into a new temporary directory
// and returns its path.
func assetsDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// check fails t unless h has exactly one value for k, want.
func check(t *testing.T, h http.Header, k, want string) {
	t.Helper()
	if got := h.Values(k); len(got) != 1 || got[0] != want {
		t.Errorf("%s: %q, want %q", k, got, want)
	}
}

// itoa is strconv.Itoa, short for table names and configs.
func itoa(n int) string { return strconv.Itoa(n) }

// sendN sends n GETs and counts the answers by body (backend name) or,
// for errors, by status.
func sendN(g *testkit.Gatehouse, n int, path string) map[string]int {
	out := map[string]int{}
	for range n {
		res, body := g.Get(path)
		if res.StatusCode != 200 {
			body = res.Status
		}
		out[body]++
	}
	return out
}

// result is the outcome of a request sent in the background.
type result struct {
	status int
	body   string
	err    error
}

// getAsync sends GET path on a connection of its own and reports the
// outcome.
func getAsync(g *testkit.Gatehouse, path string) <-chan result {
	out := make(chan result, 1)
	go func() {
		client := testkit.NewClient()
		defer client.CloseIdleConnections()
		res, err := client.Get(g.URL + path)
		if err != nil {
			out <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		out <- result{res.StatusCode, string(b), err}
	}()
	return out
}

// wait receives from ch, failing the test after 10s.
func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// refused reports whether connecting to addr is refused.
func refused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// echoOnce writes msg and expects it back unchanged.
func echoOnce(t *testing.T, c *websocket.Conn, typ websocket.MessageType, msg []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Write(ctx, typ, msg); err != nil {
		t.Fatalf("write: %v", err)
	}
	gotTyp, got, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if gotTyp != typ || !bytes.Equal(got, msg) {
		t.Fatalf("echo: got %v %q, want %v %q", gotTyp, got, typ, msg)
	}
}
