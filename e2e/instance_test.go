package e2e

import (
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// instance is one Gatehouse process of a multi-instance test (a shared
// cache, a shared rate limit), with a keep-alive client of its
// own.
type instance struct {
	name string
	url  string
	proc *testkit.Process
	c    *http.Client
}

// launchInstance starts a process with config (its listener on a free
// port) without waiting for it.
func launchInstance(t *testing.T, bin, dir, name, config string) *instance {
	t.Helper()
	path := filepath.Join(dir, name+".yaml")
	writeConfig(t, path, config)
	n := &instance{name: name, proc: testkit.StartProcess(t, bin, dir, "run", "-config", path), c: testkit.NewClient()}
	t.Cleanup(n.c.CloseIdleConnections)
	return n
}

// ready waits until n listens.
func (n *instance) ready(t *testing.T) {
	t.Helper()
	n.url = "http://" + n.proc.WaitLog(60*time.Second, "listening").Str("address")
}

// stop ends n with SIGTERM and requires a clean exit.
func (n *instance) stop(t *testing.T) {
	t.Helper()
	n.c.CloseIdleConnections()
	n.proc.Signal(syscall.SIGTERM)
	if code := n.proc.Wait(10 * time.Second); code != 0 {
		t.Errorf("instance %s exited with %d after SIGTERM, want 0", n.name, code)
	}
}
