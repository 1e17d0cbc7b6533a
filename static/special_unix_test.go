//go:build linux

// Linux only, though FIFOs and sockets are Unix-wide: the unreadable-file
// check drops root's file privileges with setfsuid(2), which only Linux has,
// so that it runs as root too (the documented way to run the suite).

package static

import (
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// TestSpecialFiles checks that files that are not regular (a FIFO, whose
// open for reading would block until a writer appears, a socket, a device)
// are 404 and left out of listings.
func TestSpecialFiles(t *testing.T) {
	tr := newTree(t)
	special := []struct{ name, kind string }{{"fifo", "FIFO"}, {"sock", "socket"}, {"null", "device"}}
	if err := syscall.Mkfifo(filepath.Join(tr.root, "fifo"), 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: filepath.Join(tr.root, "sock"), Net: "unix"})
	if err != nil {
		t.Fatalf("unix socket: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	// A character device like /dev/null needs CAP_MKNOD; without it (not
	// root), the device case is left out rather than the test skipped.
	if err := syscall.Mknod(filepath.Join(tr.root, "null"), syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Logf("mknod (needs root), device case left out: %v", err)
		special = special[:2]
	}
	srv := serve(t, tr, Options{Browse: true})
	for _, f := range special {
		t.Run(f.kind, func(t *testing.T) {
			if r := raw(t, srv, "/"+f.name); r.status != http.StatusNotFound || tr.leaks(r) {
				t.Errorf("GET /%s: status %d body %q, want 404", f.name, r.status, r.body)
			}
		})
	}
	r := raw(t, srv, "/")
	if r.status != http.StatusOK || !strings.Contains(r.body, `href="./digits.txt"`) {
		t.Fatalf("listing: status %d without digits.txt, want 200 listing the regular files:\n%s", r.status, r.body)
	}
	for _, f := range special {
		if strings.Contains(r.body, `href="./`+f.name+`"`) || strings.Contains(r.body, ">"+f.name+"<") {
			t.Errorf("listing shows the %s %q:\n%s", f.kind, f.name, r.body)
		}
	}
}

// TestUnreadable checks that a name the operating system refuses to open is
// 403, without its content or path. Root reads every file whatever its mode
// (CAP_DAC_OVERRIDE), so the requests are served on an OS thread whose
// file-system user is nobody when the test runs as root.
func TestUnreadable(t *testing.T) {
	tr := newTree(t)
	writeFile(t, filepath.Join(tr.root, "locked.txt"), "LOCKED-SECRET")
	writeFile(t, filepath.Join(tr.root, "lockeddir", "inner.txt"), "LOCKED-SECRET")
	for _, p := range []string{"locked.txt", "lockeddir"} {
		if err := os.Chmod(filepath.Join(tr.root, p), 0); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(tr.root, "lockeddir"), 0o755) }) // so TempDir can remove it
	h, err := New(Options{Root: tr.root, Browse: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })

	cases := []struct{ path, why string }{
		{"/locked.txt", "a file without read permission"},
		{"/lockeddir/", "a directory without read permission"},
		{"/lockeddir/inner.txt", "a file in a directory without search permission"},
	}
	asUnprivileged(t, func() {
		// The premise: on this thread the file really cannot be read.
		if _, err := os.Open(filepath.Join(tr.root, "locked.txt")); !errors.Is(err, fs.ErrPermission) {
			t.Errorf("open of a mode 0 file on the unprivileged thread: %v, want permission denied; the test cannot check 403", err)
			return
		}
		for _, c := range cases {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", c.path, nil))
			r := result{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
			if r.status != http.StatusForbidden || tr.leaks(r) {
				t.Errorf("%s (GET %s): status %d body %q, want 403 without the content", c.why, c.path, r.status, r.body)
			}
		}
	})
}

// asUnprivileged runs f on a goroutine locked to its own OS thread. When the
// test runs as root, that thread's file-system user ID is set to nobody's
// (65534) first: Linux keeps credentials per thread, setfsuid(2) changes
// only the one used for file access, and moving it away from 0 clears
// CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the thread's effective
// capabilities (capabilities(7)). The thread is never unlocked, so it exits
// with the goroutine and no other goroutine ever runs with these
// credentials. f runs synchronously on that thread: it must not start
// goroutines that touch files.
func asUnprivileged(t *testing.T, f func()) {
	t.Helper()
	const nobody = 65534
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // deliberately never unlocked
		if os.Geteuid() == 0 {
			syscall.RawSyscall(syscall.SYS_SETFSUID, nobody, 0, 0)
			// setfsuid reports no error; an invalid ID (-1) changes
			// nothing and returns the current one.
			if cur, _, _ := syscall.RawSyscall(syscall.SYS_SETFSUID, ^uintptr(0), 0, 0); cur != nobody {
				t.Errorf("setfsuid(%d): the thread's file-system user is still %d", nobody, cur)
				return
			}
		}
		f()
	}()
	<-done
}
