package splice

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// pair returns the two ends of a loopback TCP connection.
func pair(t testing.TB) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		got <- c
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-got
	t.Cleanup(func() { a.Close(); b.Close() })
	return a.(*net.TCPConn), b.(*net.TCPConn)
}

func TestCopy(t *testing.T) {
	in, src := pair(t)  // the test writes in, Copy reads src
	dst, out := pair(t) // Copy writes dst, the test reads out
	want := make([]byte, 3<<20+17)
	for i := range want {
		want[i] = byte(i % 253)
	}
	go func() { in.Write(want); in.Write([]byte("beyond")) }()
	got := make(chan []byte)
	go func() { b, _ := io.ReadAll(io.LimitReader(out, int64(len(want)))); got <- b }()
	n, err := Copy(dst, src, int64(len(want)), nil)
	if err != nil || n != int64(len(want)) {
		t.Fatalf("Copy: %d, %v", n, err)
	}
	if !bytes.Equal(<-got, want) {
		t.Error("the bytes arrived changed")
	}
	rest := make([]byte, 6)
	if _, err := io.ReadFull(src, rest); err != nil || string(rest) != "beyond" {
		t.Errorf("after Copy the source reads %q, %v; want what lies beyond", rest, err)
	}
}

// TestCopyErrors: the source ending early is io.ErrUnexpectedEOF; a
// stalled source fails at its read deadline, which the hook sets before
// each wait; a destination that takes nothing fails at its write
// deadline, as a *WriteError.
func TestCopyErrors(t *testing.T) {
	t.Run("source ends", func(t *testing.T) {
		in, src := pair(t)
		dst, out := pair(t)
		go io.Copy(io.Discard, out)
		in.Write([]byte("short"))
		in.Close()
		n, err := Copy(dst, src, 100, nil)
		if n != 5 || err != io.ErrUnexpectedEOF {
			t.Errorf("Copy: %d, %v; want 5, io.ErrUnexpectedEOF", n, err)
		}
	})
	t.Run("source stalls", func(t *testing.T) {
		_, src := pair(t)
		dst, _ := pair(t)
		waits := 0
		h := &Hooks{BeforeRead: func() { waits++; src.SetReadDeadline(time.Now().Add(50 * time.Millisecond)) }}
		_, err := Copy(dst, src, 100, h)
		if !errors.Is(err, os.ErrDeadlineExceeded) || IsWrite(err) || waits < 2 {
			t.Errorf("Copy: %v after %d hooks; want the read deadline, armed before the attempt and the wait", err, waits)
		}
	})
	t.Run("destination stalls", func(t *testing.T) {
		in, src := pair(t)
		dst, _ := pair(t) // never read
		go in.Write(make([]byte, 64<<20))
		h := &Hooks{BeforeWrite: func() { dst.SetWriteDeadline(time.Now().Add(50 * time.Millisecond)) }}
		n, err := Copy(dst, src, 64<<20, h)
		if !errors.Is(err, os.ErrDeadlineExceeded) || !IsWrite(err) || n >= 64<<20 {
			t.Errorf("Copy: %d, %v; want the write deadline as a *WriteError", n, err)
		}
	})
}

// BenchmarkCopy compares splicing a body of each size between two
// loopback connections with copying it through a 32 KiB buffer (what the
// proxy does otherwise), the time per body: where splice starts to win
// is spliceMin's measure.
func BenchmarkCopy(b *testing.B) {
	for _, size := range []int{4 << 10, 16 << 10, 32 << 10, 64 << 10, 256 << 10, 1 << 20} {
		for _, kernel := range []bool{false, true} {
			name := "read-write/"
			if kernel {
				name = "splice/"
			}
			b.Run(name+byteSize(size), func(b *testing.B) {
				in, src := pair(b)
				dst, out := pair(b)
				go io.Copy(in, zeros{}) // an endless body
				go io.Copy(io.Discard, out)
				buf := make([]byte, 32<<10)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				// The feeder and the sink are in the process too: the
				// copier's own cost is its thread's CPU time.
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				cpu0 := threadCPU()
				for b.Loop() {
					var err error
					if kernel {
						_, err = Copy(dst, src, int64(size), nil)
					} else {
						_, err = io.CopyBuffer(struct{ io.Writer }{dst}, io.LimitReader(src, int64(size)), buf)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(threadCPU()-cpu0)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// threadCPU is the calling thread's user and system time, in ns.
func threadCPU() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func byteSize(n int) string {
	if n >= 1<<20 {
		return itoa(n>>20) + "MiB"
	}
	return itoa(n>>10) + "KiB"
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
