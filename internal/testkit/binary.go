package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// BuildBinary builds the gatehouse command into a new temporary directory,
// race-instrumented when race is set, with extra -ldflags when non-empty,
// and returns the binary's path and a function that removes it. For
// TestMain functions of packages that drive the real process.
func BuildBinary(race bool, ldflags string) (path string, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "gatehouse-bin-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	path = filepath.Join(dir, "gatehouse")
	args := []string{"build", "-o", path}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	if race {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, cmdDir())...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("building gatehouse: %w", err)
	}
	return path, cleanup, nil
}

// cmdDir is the directory of the gatehouse command, found from this
// file's location so callers may run from any package directory.
func cmdDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "cmd", "gatehouse")
}
