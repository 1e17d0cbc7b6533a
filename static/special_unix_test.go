//go:build unix

package static

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestSpecialFiles checks that a FIFO is refused promptly (opening one for
// reading would block until a writer appears) and that unreadable files get
// 403.
func TestSpecialFiles(t *testing.T) {
	tr := newTree(t)
	if err := syscall.Mkfifo(filepath.Join(tr.root, "fifo"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	writeFile(t, filepath.Join(tr.root, "locked.txt"), "locked")
	if err := os.Chmod(filepath.Join(tr.root, "locked.txt"), 0); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, tr, Options{Browse: true})
	if r := raw(t, srv, "/fifo"); r.status != 404 {
		t.Errorf("fifo: status %d, want 404", r.status)
	}
	if r := raw(t, srv, "/"); r.status != 200 || strings.Contains(r.body, "fifo") {
		t.Errorf("listing: status %d, lists the fifo: %v", r.status, strings.Contains(r.body, "fifo"))
	}
	if os.Geteuid() == 0 {
		t.Skip("running as root: file permissions are not enforced")
	}
	if r := raw(t, srv, "/locked.txt"); r.status != 403 || tr.leaks(r) {
		t.Errorf("unreadable file: status %d body %q, want 403", r.status, r.body)
	}
}
