package cache_test

import (
	"os"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestMain fails the package if goroutines outlive the tests: background
// revalidations, the stores' clean-up and every Gatehouse the tests
// start must be gone once their cleanups have run.
func TestMain(m *testing.M) {
	os.Exit(testkit.RunCheckingLeaks(m, 5*time.Second, nil))
}
