package testkit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Redis is a real redis-server on a loopback port, for one test: no
// persistence (no RDB snapshots, no AOF), its working directory a
// temporary one. It can be killed mid-test (Kill) and started again,
// empty, on the same port (Restart), to stage an outage, and asked
// anything with Do. Safe for concurrent use.
type Redis struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	out  Logs // the server's stdout and stderr, written to the test log if it fails

	conf  string   // a config file, the first argument when set (a Sentinel needs one)
	extra []string // arguments after the defaults, which they may override

	mu  sync.Mutex
	run *redisRun // nil while killed
}

// redisRun is one run of the server.
type redisRun struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once it has exited
}

// redisStartTimeout bounds how long a server may take to answer PING.
const redisStartTimeout = 10 * time.Second

// StartRedis starts redis-server on a free loopback port and returns once
// it answers PING; it is killed when the test ends. A machine without
// redis-server fails the test (it is never skipped).
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	return startRedis(t, nil)
}

// startRedis starts a server as StartRedis does. prepare, when not nil,
// is called before each try with r.port set to the port about to be
// tried, to set r.conf and r.extra (and take more ports if it needs them).
func startRedis(t testing.TB, prepare func(r *Redis)) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found (%v): apt-get install redis-server", err)
	}
	r := &Redis{t: t, bin: bin, dir: t.TempDir()}
	t.Cleanup(func() {
		r.Kill()
		if t.Failed() {
			t.Logf("redis-server on %s output:\n%s", r.Addr(), &r.out)
		}
	})
	// The free port is found by closing a listener, so another process
	// may take it first: then try another.
	for try := 1; ; try++ {
		r.port = freePort(t)
		if prepare != nil {
			prepare(r)
		}
		err := r.start()
		if err == nil {
			return r
		}
		if try == 3 || !strings.Contains(r.out.String(), "already in use") {
			t.Fatalf("redis-server: %v", err)
		}
	}
}

// Addr is the server's host:port; it stays the same across Kill and
// Restart.
func (r *Redis) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// Kill ends the server at once (SIGKILL to its PID) and waits for it to
// exit; connecting to Addr is then refused. Killing a dead server does
// nothing.
func (r *Redis) Kill() {
	r.mu.Lock()
	run := r.run
	r.run = nil
	r.mu.Unlock()
	if run == nil {
		return
	}
	_ = run.cmd.Process.Kill()
	<-run.done
}

// Restart kills the server if it runs and starts a new, empty one on the
// same port, returning once it answers PING.
func (r *Redis) Restart() {
	r.t.Helper()
	r.Kill()
	if err := r.start(); err != nil {
		r.t.Fatalf("redis-server: restart: %v", err)
	}
}

// start runs the server on r.port and waits until it answers PING, or
// fails if it exits or stays silent first.
func (r *Redis) start() error {
	var args []string
	if r.conf != "" {
		args = append(args, r.conf)
	}
	args = append(args, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--daemonize", "no", "--loglevel", "warning")
	cmd := exec.Command(r.bin, append(args, r.extra...)...)
	cmd.Dir = r.dir
	cmd.Stdout, cmd.Stderr = &r.out, &r.out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", r.bin, err)
	}
	run := &redisRun{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(run.done)
	}()
	r.mu.Lock()
	r.run = run
	r.mu.Unlock()
	deadline := time.Now().Add(redisStartTimeout)
	for !ping(r.Addr()) {
		select {
		case <-run.done:
			r.Kill()
			return fmt.Errorf("exited on port %d before answering PING: %s", r.port, r.out.String())
		default:
		}
		if time.Now().After(deadline) {
			r.Kill()
			return fmt.Errorf("no answer to PING on port %d after %v", r.port, redisStartTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// Do sends one command and returns its reply as text: a status, bulk
// string or integer as it is, a nil as "", an array's elements (nested
// ones flattened) joined by single spaces. An error reply, or a server
// that does not answer within a second, fails the test.
func (r *Redis) Do(args ...string) string {
	r.t.Helper()
	c, err := net.DialTimeout("tcp", r.Addr(), time.Second)
	if err != nil {
		r.t.Fatalf("redis %s: %v", args, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c, b.String()); err != nil {
		r.t.Fatalf("redis %s: %v", args, err)
	}
	words, err := readReply(bufio.NewReader(c))
	if err != nil {
		r.t.Fatalf("redis %s: %v", args, err)
	}
	return strings.Join(words, " ")
}

// readReply reads one RESP2 reply as the words Do joins.
func readReply(br *bufio.Reader) ([]string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty reply line")
	}
	switch line[0] {
	case '+', ':':
		return []string{line[1:]}, nil
	case '-':
		return nil, errors.New(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return []string{""}, err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(br, buf); err != nil {
			return nil, err
		}
		return []string{string(buf[:n])}, nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return nil, err
		}
		var out []string
		for range max(n, 0) {
			w, err := readReply(br)
			if err != nil {
				return nil, err
			}
			out = append(out, w...)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected reply %q", line)
}

// ping sends a RESP PING to addr and reports whether +PONG came back.
func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
