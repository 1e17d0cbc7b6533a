package compress

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestMain fails the package if a goroutine outlives its tests: the
// encoders must start none, and every response must end. (testkit's
// RunCheckingLeaks cannot be used: testkit imports the middleware table,
// which imports this package.)
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := leaks(5 * time.Second); leaked != "" {
			fmt.Fprintf(os.Stderr, "goroutines leaked by the tests:\n\n%s\n", leaked)
			code = 1
		}
	}
	os.Exit(code)
}

// leaks waits up to timeout for every goroutine but the test runner's to
// end, and returns the stacks of those that did not.
func leaks(timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for g := range strings.SplitSeq(string(buf), "\n\n") {
			if !strings.Contains(g, "testing.(*M).") && !strings.Contains(g, "compress.leaks") &&
				!strings.Contains(g, "os/signal.") && !strings.Contains(g, "runtime.ensureSigM") {
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
