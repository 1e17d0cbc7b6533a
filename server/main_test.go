package server_test

import (
	"os"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestMain fails the package if goroutines outlive its tests: every
// socket, front, engine, connection and handler they start must be gone
// once their cleanups have run. (testkit imports server, so the check
// lives in the external test package; package server's own tests run in
// the same binary and are checked too.)
func TestMain(m *testing.M) {
	os.Exit(testkit.RunCheckingLeaks(m, 5*time.Second, nil))
}
