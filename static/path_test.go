package static

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		raw  string
		want target
		err  error
	}{
		{"", target{name: "."}, nil},
		{"/", target{name: ".", dir: true}, nil},
		{"/a.txt", target{name: "a.txt", base: "a.txt"}, nil},
		{"/img/a%20b.png", target{name: "img/a b.png", base: "a b.png"}, nil},
		{"/dir/", target{name: "dir", base: "dir", dir: true}, nil},
		{"/a+b%25c", target{name: "a+b%c", base: "a+b%c"}, nil},
		{"/.well-known/x", target{name: ".well-known/x", base: "x"}, nil},
		{"/caf%C3%A9", target{name: "café", base: "café"}, nil},
		{"a.txt", target{}, errBadPath},
		{"/%zz", target{}, errBadPath},
		{"/a%2", target{}, errBadPath},
		{"/a%2Fb", target{}, errBadPath},
		{"/a%2fb", target{}, errBadPath},
		{"/..%2fsecret", target{}, errBadPath},
		{"/%2e%2e%2fsecret", target{}, errBadPath},
		{"/a%00b", target{}, errBadPath},
		{"/a\x00b", target{}, errBadPath},
		{"/a%0Ab", target{}, errBadPath},
		{"/a%7Fb", target{}, errBadPath},
		{"/..%5csecret", target{}, errBadPath},
		{"/a\\b", target{}, errBadPath},
		{"/..", target{}, errNotFound},
		{"/../secret", target{}, errNotFound},
		{"/a/../../secret", target{}, errNotFound},
		{"/%2e%2e/secret", target{}, errNotFound},
		{"/%2E%2E/secret", target{}, errNotFound},
		{"/.", target{}, errNotFound},
		{"/./a", target{}, errNotFound},
		{"/%2e/a", target{}, errNotFound},
		{"/a/.", target{}, errNotFound},
		{"/a/..", target{}, errNotFound},
		{"/a/../", target{}, errNotFound},
		{"//etc/passwd", target{}, errNotFound},
		{"/a//b", target{}, errNotFound},
		{"/a//", target{}, errNotFound},
		{"/.env", target{}, errNotFound},
		{"/%2eenv", target{}, errNotFound},
		{"/.git/config", target{}, errNotFound},
		{"/.well-known/.hidden", target{}, errNotFound},
		{"/.well-knownx/a", target{}, errNotFound},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.raw), func(t *testing.T) {
			got, err := parsePath(tc.raw)
			if err != tc.err || got != tc.want {
				t.Errorf("parsePath(%q) = %+v, %v; want %+v, %v", tc.raw, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestStatusOf(t *testing.T) {
	escape := &fs.PathError{Op: "openat", Path: "x", Err: errors.New("path escapes from parent")}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"bad path", errBadPath, http.StatusBadRequest},
		{"not servable", errNotFound, http.StatusNotFound},
		{"missing", &fs.PathError{Err: syscall.ENOENT}, http.StatusNotFound},
		{"not a directory", &fs.PathError{Err: syscall.ENOTDIR}, http.StatusNotFound},
		{"link loop", &fs.PathError{Err: syscall.ELOOP}, http.StatusNotFound},
		{"name too long", &fs.PathError{Err: syscall.ENAMETOOLONG}, http.StatusNotFound},
		{"invalid name", &fs.PathError{Err: syscall.EINVAL}, http.StatusNotFound},
		{"escapes root", escape, http.StatusNotFound},
		{"wrapped escape", fmt.Errorf("open: %w", escape), http.StatusNotFound},
		{"permission", &fs.PathError{Err: syscall.EACCES}, http.StatusForbidden},
		{"permission sentinel", fs.ErrPermission, http.StatusForbidden},
		{"io error", &fs.PathError{Err: syscall.EIO}, http.StatusInternalServerError},
		{"closed root", os.ErrClosed, http.StatusInternalServerError},
		{"other", errors.New("boom"), http.StatusInternalServerError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := classOf(tc.err).Status; got != tc.want {
				t.Errorf("classOf(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	writeFile(t, file, "x")
	tests := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"directory", Options{Root: dir, Index: "index.html"}, true},
		{"no index", Options{Root: dir}, true},
		{"empty root", Options{}, false},
		{"missing root", Options{Root: filepath.Join(dir, "nope")}, false},
		{"file root", Options{Root: file}, false},
		{"index with slash", Options{Root: dir, Index: "a/index.html"}, false},
		{"index dotfile", Options{Root: dir, Index: ".index"}, false},
		{"index dotdot", Options{Root: dir, Index: ".."}, false},
		{"index backslash", Options{Root: dir, Index: `a\b`}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := New(tc.o)
			if (err == nil) != tc.ok {
				t.Fatalf("New(%+v) error = %v, want ok=%v", tc.o, err, tc.ok)
			}
			if h != nil {
				if err := h.Close(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestPathlessSeek checks that the Seek errors ServeContent echoes into a
// response body carry no file-system path.
func TestPathlessSeek(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	writeFile(t, path, "x")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = pathless{f}.Seek(0, 0)
	if err == nil || strings.Contains(err.Error(), path) {
		t.Errorf("Seek on closed file: error %v, want one without the path", err)
	}
}
