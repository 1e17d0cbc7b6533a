package testkit

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// RunCheckingLeaks runs the package's tests and then fails the package
// if goroutines that concern reports on outlive them, waiting up to
// timeout for them to end. A nil concern reports every goroutine but the
// test runner's, the runtime's and those meant to live as long as the
// process (ProcessLifetime). Call it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(testkit.RunCheckingLeaks(m, 5*time.Second, nil)) }
func RunCheckingLeaks(m *testing.M, timeout time.Duration, concern func(stack string) bool) int {
	code := m.Run()
	if code != 0 {
		return code
	}
	if leaked := leakedGoroutines(timeout, concern); leaked != "" {
		fmt.Fprintf(os.Stderr, "goroutines leaked by the tests:\n\n%s\n", leaked)
		return 1
	}
	return 0
}

// leakedGoroutines waits up to timeout for the goroutines of concern to
// end and returns the stacks of those that did not.
func leakedGoroutines(timeout time.Duration, concern func(string) bool) string {
	deadline := time.Now().Add(timeout)
	for {
		var leaked []string
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		for g := range strings.SplitSeq(string(buf), "\n\n") {
			if !runner(g) && !ProcessLifetime(g) && (concern == nil || concern(g)) {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runner reports whether a goroutine belongs to the test runner, this
// check or the runtime rather than to a test.
func runner(stack string) bool {
	for _, marker := range []string{"testing.(*M).", "testkit.leakedGoroutines", "os/signal.", "runtime.ensureSigM"} {
		if strings.Contains(stack, marker) {
			return true
		}
	}
	return false
}
