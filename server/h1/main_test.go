package h1_test

import (
	"os"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestMain fails the package if goroutines outlive its tests: every
// connection, background read and handler a test starts must end with
// its server. (testkit imports server, which imports h1, so the check
// lives in the external test package; the package's own tests run in the
// same binary and are checked too.)
func TestMain(m *testing.M) {
	os.Exit(testkit.RunCheckingLeaks(m, 5*time.Second, nil))
}
