package e2e

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestMain fails the package if goroutines outlive the tests: every
// Gatehouse, backend, health checker, tunnel and client connection the
// tests start must be gone once their cleanups have run.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := leakedGoroutines(5 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines leaked by the tests:\n\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// leakedGoroutines waits up to timeout for every goroutine but the test
// runner's own to end, and returns the stacks of those that did not.
func leakedGoroutines(timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	for {
		var leaked []string
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		for g := range strings.SplitSeq(string(buf), "\n\n") {
			if !ignored(g) {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ignored reports whether a goroutine's stack belongs to the test runner,
// this check or the runtime rather than to a test.
func ignored(stack string) bool {
	if testkit.ProcessLifetime(stack) {
		return true
	}
	for _, marker := range []string{"testing.(*M).", "leakedGoroutines", "os/signal.", "runtime.ensureSigM"} {
		if strings.Contains(stack, marker) {
			return true
		}
	}
	return false
}
