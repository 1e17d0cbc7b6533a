package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// binary is the gatehouse binary built once by TestMain; the tests drive
// it as a process, the way an operator or a supervisor does.
var binary string

// testVersion is stamped into the binary, so `gatehouse version` is checked
// exactly and the -ldflags hook stays wired.
const testVersion = "v0.0.0-lifecycle-test"

// TestMain builds the binary, race-instrumented when the tests are, so
// that the real process is checked for data races too.
func TestMain(m *testing.M) {
	path, cleanup, err := testkit.BuildBinary(testkit.RaceEnabled(), "-X main.version="+testVersion)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = path
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// waitLimit bounds every wait for the process; generous because the
// binary may be race-instrumented on a busy two-core machine.
const waitLimit = 20 * time.Second

// record is one line of the process's JSON log (or a raw line that is
// not JSON, with only raw set).
type record struct {
	raw string
	m   map[string]any
}

func (r record) msg() string { s, _ := r.m["msg"].(string); return s }

func (r record) str(key string) string { s, _ := r.m[key].(string); return s }

// proc is a running gatehouse process whose stdout (the log) is collected
// line by line so tests can wait for events instead of sleeping.
type proc struct {
	t   *testing.T
	cmd *exec.Cmd

	mu      sync.Mutex
	recs    []record
	stderr  bytes.Buffer
	changed chan struct{} // closed and replaced on every new line or exit
	exited  bool
	code    int
	exitAt  time.Time
	readers sync.WaitGroup
}

// start runs the binary with args in dir and stops it (SIGKILL) when the
// test ends if it is still running. It fails the test if the process
// reported a data race or a panic.
func start(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, changed: make(chan struct{})}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Dir = dir
	// A race-enabled binary otherwise waits a second before exiting.
	p.cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.readers.Add(2)
	go p.readLog(stdout)
	go p.readStderr(stderr)
	go p.reap()
	t.Cleanup(func() {
		if !p.hasExited() {
			p.cmd.Process.Kill()
			p.waitExit(waitLimit)
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if s := p.stderr.String(); strings.Contains(s, "DATA RACE") || strings.Contains(s, "panic:") {
			t.Errorf("gatehouse %s reported a race or a panic:\n%s", strings.Join(args, " "), s)
		}
	})
	return p
}

func (p *proc) readLog(r io.Reader) {
	defer p.readers.Done()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		rec := record{raw: sc.Text()}
		if json.Unmarshal(sc.Bytes(), &rec.m) != nil {
			rec.m = nil
		}
		p.mu.Lock()
		p.recs = append(p.recs, rec)
		p.notifyLocked()
		p.mu.Unlock()
	}
}

func (p *proc) readStderr(r io.Reader) {
	defer p.readers.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		p.mu.Lock()
		p.stderr.Write(buf[:n])
		p.notifyLocked()
		p.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// reap waits for the pipes to drain, then for the process.
func (p *proc) reap() {
	p.readers.Wait()
	err := p.cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = -int(ws.Signal())
		}
	} else if err != nil {
		code = -1000
	}
	p.mu.Lock()
	p.exited, p.code, p.exitAt = true, code, time.Now()
	p.notifyLocked()
	p.mu.Unlock()
}

func (p *proc) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *proc) hasExited() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited
}

// output is everything the process printed so far, for failure messages.
func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, r := range p.recs {
		b.WriteString(r.raw + "\n")
	}
	if p.stderr.Len() > 0 {
		b.WriteString("stderr:\n" + p.stderr.String())
	}
	return b.String()
}

// await waits until cond (called with the lock held) holds, failing the
// test after limit or when the process exits first (unless exitOK).
func (p *proc) await(limit time.Duration, what string, exitOK bool, cond func() bool) {
	p.t.Helper()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		ok, exited, ch := cond(), p.exited, p.changed
		p.mu.Unlock()
		if ok {
			return
		}
		if exited && !exitOK {
			p.t.Fatalf("gatehouse %s while waiting for %s; output:\n%s", describeExit(p.code), what, p.output())
		}
		select {
		case <-ch:
		case <-deadline.C:
			p.t.Fatalf("no %s within %v; output:\n%s", what, limit, p.output())
		}
	}
}

// count is how many log records have msg.
func (p *proc) count(msg string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.countLocked(msg)
}

func (p *proc) countLocked(msg string) int {
	n := 0
	for _, r := range p.recs {
		if r.msg() == msg {
			n++
		}
	}
	return n
}

// waitMsg waits for the n-th log record with msg (counting from 1) and
// returns it.
func (p *proc) waitMsg(msg string, n int) record {
	p.t.Helper()
	var found record
	p.await(waitLimit, fmt.Sprintf("log %q #%d", msg, n), false, func() bool {
		seen := 0
		for _, r := range p.recs {
			if r.msg() == msg {
				if seen++; seen == n {
					found = r
					return true
				}
			}
		}
		return false
	})
	return found
}

// waitFor waits for a log record with msg whose key has value.
func (p *proc) waitFor(msg, key, value string) record {
	p.t.Helper()
	var found record
	p.await(waitLimit, fmt.Sprintf("log %q with %s=%q", msg, key, value), false, func() bool {
		for _, r := range p.recs {
			if r.msg() == msg && r.str(key) == value {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

// waitExit waits for the process to end and returns its exit code
// (negative for a signal).
func (p *proc) waitExit(limit time.Duration) int {
	p.t.Helper()
	p.await(limit, "exit", true, func() bool { return p.exited })
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.code
}

// exitTime is when the process was seen to end; zero while it runs.
func (p *proc) exitTime() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitAt
}

func (p *proc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// reload sends SIGHUP and waits until the process reports the new
// configuration applied.
func (p *proc) reload() {
	p.t.Helper()
	n := p.count("configuration applied")
	p.signal(syscall.SIGHUP)
	p.waitMsg("configuration applied", n+1)
}

// stop sends SIGTERM and requires a clean exit.
func (p *proc) stop() {
	p.t.Helper()
	p.signal(syscall.SIGTERM)
	if code := p.waitExit(waitLimit); code != 0 {
		p.t.Fatalf("gatehouse %s after SIGTERM, want exit code 0; output:\n%s", describeExit(code), p.output())
	}
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startRun writes the config that conf makes for a free address into
// dir/gatehouse.yaml, runs `gatehouse run` on it and waits until it has
// started. A port taken in between is retried with another.
func startRun(t *testing.T, dir string, conf func(addr string) string) (*proc, string) {
	t.Helper()
	path := filepath.Join(dir, "gatehouse.yaml")
	for try := 0; ; try++ {
		addr := freeAddr(t)
		writeFile(t, path, conf(addr))
		p := start(t, dir, "run", "-config", path)
		p.await(waitLimit, `log "gatehouse started"`, true, func() bool {
			return p.exited || p.countLocked("gatehouse started") > 0
		})
		if !p.hasExited() {
			return p, addr
		}
		if try < 3 && strings.Contains(p.output(), "address already in use") {
			continue
		}
		t.Fatalf("gatehouse did not start; output:\n%s", p.output())
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// replaceFile swaps in content by writing a temporary file and renaming it
// over path, as editors and config-management tools do.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	writeFile(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

const sighup = syscall.SIGHUP

// listenLoopback holds a loopback port for the rest of the test and
// returns its address.
func listenLoopback(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// describeExit says how a process with exit code (as from waitExit) ended.
func describeExit(code int) string {
	if code < 0 {
		return fmt.Sprintf("was killed by signal %d (%v)", -code, syscall.Signal(-code))
	}
	return fmt.Sprintf("exited with code %d", code)
}
