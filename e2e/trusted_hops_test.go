package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// trustedHopsConfig is the README's CDN example run by the binary: the test
// client (127.0.0.1) is the load balancer, the only trusted peer, and two
// proxies (a CDN, then the load balancer) append to X-Forwarded-For.
const trustedHopsConfig = `listeners: [{address: "127.0.0.1:0"}]
log: {level: info, access: false}
limits: {drain_timeout: 2s}
trusted_proxies: [127.0.0.1/32]
trusted_hops: %HOPS%
forwarding: {forwarded: true}
routes: [{upstream: "%B%"}]
`

// TestTrustedHopsBinary runs the gatehouse binary with trusted_hops and
// checks what the backend is told about the client: the Nth
// X-Forwarded-For entry from the right, never an entry a client prepended,
// and the peer with every incoming forwarding header dropped when the
// chain is shorter than N. A reload to another N takes effect.
func TestTrustedHopsBinary(t *testing.T) {
	t.Parallel()
	b := testkit.NewBackend(t, "b", nil)
	dir := t.TempDir()
	path := filepath.Join(dir, "gatehouse.yaml")
	config := func(hops string) string {
		return strings.NewReplacer("%HOPS%", hops, "%B%", b.URL).Replace(trustedHopsConfig)
	}
	writeConfig(t, path, config("2"))
	p := testkit.StartProcess(t, testkit.TestBinary(t), dir, "run", "-config", path)
	addr := p.WaitLog(60*time.Second, "listening").Str("address")
	c := testkit.NewClient()
	defer c.CloseIdleConnections()

	// get sends GET / from the "load balancer" with header pairs and
	// returns what the backend received.
	get := func(t *testing.T, header ...string) http.Header {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Add(header[i], header[i+1])
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		return b.Last().Header
	}

	t.Run("CDN and load balancer", func(t *testing.T) {
		h := get(t, "X-Forwarded-For", "203.0.113.7, 198.51.100.2", "X-Forwarded-Proto", "https")
		check(t, h, "X-Real-Ip", "203.0.113.7")
		check(t, h, "X-Forwarded-For", "203.0.113.7, 198.51.100.2, 127.0.0.1")
		check(t, h, "X-Forwarded-Proto", "https")
	})
	t.Run("client prepends a fake", func(t *testing.T) {
		h := get(t, "X-Forwarded-For", "1.1.1.1, 203.0.113.7, 198.51.100.2")
		check(t, h, "X-Real-Ip", "203.0.113.7")
		check(t, h, "X-Forwarded-For", "1.1.1.1, 203.0.113.7, 198.51.100.2, 127.0.0.1")
	})
	t.Run("several lines", func(t *testing.T) {
		h := get(t, "X-Forwarded-For", "1.1.1.1", "X-Forwarded-For", "203.0.113.7", "X-Forwarded-For", " , 198.51.100.2")
		check(t, h, "X-Real-Ip", "203.0.113.7")
	})
	t.Run("IPv6 with brackets and port", func(t *testing.T) {
		h := get(t, "X-Forwarded-For", "[2001:db8::7]:4711, 198.51.100.2:443")
		check(t, h, "X-Real-Ip", "2001:db8::7")
	})
	t.Run("unknown at the client's place", func(t *testing.T) {
		h := get(t, "X-Forwarded-For", "1.1.1.1, unknown, 198.51.100.2")
		check(t, h, "X-Real-Ip", "198.51.100.2")
	})
	t.Run("forwarded only", func(t *testing.T) {
		h := get(t, "Forwarded", "for=1.1.1.1, for=203.0.113.9;proto=https, for=198.51.100.2")
		check(t, h, "X-Real-Ip", "203.0.113.9")
		check(t, h, "X-Forwarded-For", "203.0.113.9, 127.0.0.1")
	})
	t.Run("too few entries", func(t *testing.T) {
		h := get(t, "X-Forwarded-For", "1.1.1.1", "X-Forwarded-Proto", "https",
			"X-Forwarded-Host", "evil.example", "X-Real-IP", "1.1.1.1", "Forwarded", "for=1.1.1.1, for=2.2.2.2")
		check(t, h, "X-Real-Ip", "127.0.0.1")
		check(t, h, "X-Forwarded-For", "127.0.0.1")
		check(t, h, "X-Forwarded-Proto", "http")
		check(t, h, "X-Forwarded-Host", addr)
		check(t, h, "Forwarded", `for=127.0.0.1;host="`+addr+`";proto=http`)
	})
	t.Run("no header", func(t *testing.T) {
		h := get(t)
		check(t, h, "X-Real-Ip", "127.0.0.1")
		check(t, h, "X-Forwarded-For", "127.0.0.1")
	})

	t.Run("reload to one hop", func(t *testing.T) {
		writeConfig(t, path, config("1"))
		p.Signal(syscall.SIGHUP)
		testkit.Eventually(t, 20*time.Second, func() bool {
			return get(t, "X-Forwarded-For", "203.0.113.7, 198.51.100.2").Get("X-Real-Ip") == "198.51.100.2"
		}, "trusted_hops: 1 not in effect after SIGHUP")
	})

	p.Signal(syscall.SIGTERM)
	if code := p.Wait(20 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

// TestTrustedHopsValidate: gatehouse validate names the line of a
// trusted_hops out of range and of one without trusted_proxies.
func TestTrustedHopsValidate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeConfig(t, filepath.Join(dir, "bad.yaml"), `listeners: [{address: ":8080"}]
trusted_proxies: [10.0.0.0/8]
trusted_hops: 17
`)
	writeConfig(t, filepath.Join(dir, "alone.yaml"), `listeners: [{address: ":8080"}]
trusted_hops: 2
`)
	bin := testkit.TestBinary(t)
	for file, want := range map[string]string{
		"bad.yaml":   "bad.yaml:3:15: trusted_hops: must be between 0 and 16",
		"alone.yaml": "alone.yaml:2:15: trusted_hops: needs trusted_proxies",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, bin, "validate", "-config", file)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
		out, err := cmd.CombinedOutput()
		cancel()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("validate %s: %v, want exit code 1\n%s", file, err, out)
		}
		if !strings.HasPrefix(string(out), want) {
			t.Errorf("validate %s says:\n%s\nwant a line starting %q", file, out, want)
		}
	}
}
