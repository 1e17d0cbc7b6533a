package testkit

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RaceEnabled reports whether the running test binary was built with
// -race, so a binary it builds for a process test can be too.
func RaceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// TestBinary builds the gatehouse command for one test (race-instrumented
// when the test binary is) and returns its path; it is removed when the
// test ends. Go's build cache makes every build after the first quick.
func TestBinary(t testing.TB) string {
	t.Helper()
	path, cleanup, err := BuildBinary(RaceEnabled(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	return path
}

// Process is the gatehouse binary running as a child process. Its stdout
// (the JSON log) is collected in Logs and its stderr in Stderr, so tests
// wait for log lines instead of sleeping.
type Process struct {
	Logs, Stderr *Logs

	t    testing.TB
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited
	code int           // exit code, or minus the signal number; set before done closes
}

// StartProcess runs binary with args in dir. If it is still running when
// the test ends it is killed; either way the test fails if it reported a
// data race or a panic, and its output is logged if the test failed.
func StartProcess(t testing.TB, binary, dir string, args ...string) *Process {
	t.Helper()
	p := &Process{Logs: &Logs{}, Stderr: &Logs{}, t: t, done: make(chan struct{})}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Dir = dir
	// A race-enabled binary otherwise waits a second before exiting.
	p.cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	p.cmd.Stdout, p.cmd.Stderr = p.Logs, p.Stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", filepath.Base(binary), err)
	}
	go p.reap()
	t.Cleanup(func() {
		if !p.Exited() {
			p.cmd.Process.Kill()
			<-p.done
		}
		if s := p.Stderr.String(); strings.Contains(s, "DATA RACE") || strings.Contains(s, "panic:") {
			t.Errorf("gatehouse %s reported a race or a panic:\n%s", strings.Join(args, " "), s)
		}
		if t.Failed() {
			t.Logf("gatehouse %s output:\n%s\nstderr:\n%s", strings.Join(args, " "), p.Logs, p.Stderr)
		}
	})
	return p
}

// reap waits for the process (and its output) and records how it ended.
func (p *Process) reap() {
	err := p.cmd.Wait()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		p.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			p.code = -int(ws.Signal())
		}
	case err != nil:
		p.code = -1000
	}
	close(p.done)
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// Wait waits up to timeout for the process to end and returns its exit
// code (minus the signal number if a signal ended it); it fails the test
// if the process is still running then.
func (p *Process) Wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(timeout):
		p.t.Fatalf("gatehouse still running %v later", timeout)
		return 0
	}
}

// WaitLog waits up to timeout for a log line with msg and the attribute
// pairs given (as Logs.Match) and returns it. It fails the test at the
// timeout, or at once if the process ends first.
func (p *Process) WaitLog(timeout time.Duration, msg string, attrs ...any) Entry {
	p.t.Helper()
	var found Entry
	Eventually(p.t, timeout, func() bool {
		if m := p.Logs.Match(msg, attrs...); len(m) > 0 {
			found = m[0]
			return true
		}
		if p.Exited() {
			p.t.Fatalf("gatehouse exited (code %d) while waiting for log %q %v", p.code, msg, attrs)
		}
		return false
	}, "no log line %q with %v", msg, attrs)
	return found
}

// PID is the process's ID, for reading what /proc tells of it.
func (p *Process) PID() int { return p.cmd.Process.Pid }
