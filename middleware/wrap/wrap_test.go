package wrap

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hooked is an embedding writer that records its hook calls.
type hooked struct {
	Writer
	calls []int
}

func (h *hooked) BeforeHeader(status int) {
	h.calls = append(h.calls, status)
	h.Header().Set("X-Hooked", "yes")
}

func newHooked(w http.ResponseWriter) *hooked {
	h := &hooked{}
	h.Reset(w, h)
	return h
}

func TestBeforeHeaderOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		do     func(w http.ResponseWriter)
		status int
	}{
		{"explicit", func(w http.ResponseWriter) { w.WriteHeader(404); w.WriteHeader(500) }, 404},
		{"implicit at write", func(w http.ResponseWriter) { w.Write([]byte("x")); w.WriteHeader(500) }, 200},
		{"implicit at flush", func(w http.ResponseWriter) { w.(http.Flusher).Flush() }, 200},
		{"informational first", func(w http.ResponseWriter) { w.WriteHeader(103); w.WriteHeader(201) }, 201},
		{"read from", func(w http.ResponseWriter) { w.(io.ReaderFrom).ReadFrom(strings.NewReader("abc")) }, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h := newHooked(rec)
			tc.do(h)
			if len(h.calls) != 1 || h.calls[0] != tc.status || h.Status() != tc.status {
				t.Fatalf("hook calls %v, Status %d; want one call with %d", h.calls, h.Status(), tc.status)
			}
			if rec.Header().Get("X-Hooked") != "yes" {
				t.Error("the hook's header edit did not reach the response")
			}
		})
	}
}

func TestBytesCounted(t *testing.T) {
	h := newHooked(httptest.NewRecorder())
	h.Write([]byte("hello"))
	h.ReadFrom(strings.NewReader(" world"))
	if h.Bytes() != 11 {
		t.Errorf("Bytes = %d, want 11", h.Bytes())
	}
}

// readFromRecorder stands for net/http's response, whose ReadFrom uses
// sendfile for files.
type readFromRecorder struct {
	*httptest.ResponseRecorder
	src io.Reader
}

func (r *readFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	r.src = src
	return io.Copy(r.ResponseRecorder, src)
}

// Files reach the real writer's ReadFrom through nested wrappers, as the
// file itself (so sendfile can be used).
func TestReadFromPassesDown(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("content")
	f.Seek(0, 0)
	defer f.Close()
	inner := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
	outer := newHooked(newHooked(inner))
	if n, err := io.Copy(outer, f); n != 7 || err != nil {
		t.Fatalf("copy: %d, %v", n, err)
	}
	// io.Copy goes through File.WriteTo, which hands ReadFrom the file
	// without its WriteTo method; net's sendfile takes any syscall.Conn.
	if _, ok := inner.src.(syscall.Conn); !ok {
		t.Errorf("the innermost ReadFrom got %T, want the file (a syscall.Conn) for sendfile", inner.src)
	}
}

func TestFlushAndControllerThroughWrappers(t *testing.T) {
	done := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w = newHooked(newHooked(w))
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			done <- err
			return
		}
		w.Write([]byte("first"))
		done <- rc.Flush()
		time.Sleep(50 * time.Millisecond)
	}))
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	buf := make([]byte, 5)
	if _, err := io.ReadFull(res.Body, buf); err != nil || string(buf) != "first" {
		t.Fatalf("flushed bytes: %q, %v", buf, err)
	}
	if err := <-done; err != nil {
		t.Errorf("controller through wrappers: %v", err)
	}
	if res.Header.Get("X-Hooked") != "yes" {
		t.Error("hook did not run")
	}
}

func TestHijackAndFinalize(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outer := newHooked(newHooked(w))
		Finalize(outer, http.StatusSwitchingProtocols)
		inner := outer.ResponseWriter.(*hooked)
		if len(outer.calls) != 1 || len(inner.calls) != 1 || outer.calls[0] != 101 {
			t.Errorf("Finalize reached hooks %v and %v, want both once with 101", outer.calls, inner.calls)
		}
		c, brw, err := outer.Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
		brw.Flush()
	}))
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	if string(body) != "ok" {
		t.Errorf("hijacked answer %q", body)
	}
}

// The helpers walk the chain without the allocation of a
// ResponseController.
func TestHelpersDoNotAllocate(t *testing.T) {
	w := newHooked(newHooked(httptest.NewRecorder()))
	w.WriteHeader(200)
	if n := testing.AllocsPerRun(100, func() { _ = Flush(w) }); n != 0 {
		t.Errorf("Flush: %v allocations", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = w.FlushError() }); n != 0 {
		t.Errorf("FlushError: %v allocations", n)
	}
	if err := SetWriteDeadline(w, time.Now()); err != http.ErrNotSupported {
		t.Errorf("SetWriteDeadline on a recorder: %v, want ErrNotSupported", err)
	}
}
