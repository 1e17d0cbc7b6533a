package h2guard

import (
	"bytes"
	"math"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// loopConn serves the same bytes on every Read and discards writes.
type loopConn struct {
	memConn
	chunk []byte
}

func (c *loopConn) Read(p []byte) (int, error)  { return copy(p, c.chunk), nil }
func (c *loopConn) Write(p []byte) (int, error) { return len(p), nil }

// benchRead reads chunk, a whole number of client frames, through a
// guard per iteration, past a preface read once.
func benchRead(b *testing.B, chunk []byte) {
	c := &loopConn{chunk: chunk}
	var conn net.Conn = c
	g := (&Policy{MinResets: math.MaxInt}).Wrap(conn).(*Conn)
	g.in.skip = 0 // no preface in the loop
	buf := make([]byte, len(chunk))
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	for b.Loop() {
		g.Read(buf)
	}
}

// BenchmarkRead: a 16 KiB read of a request's DATA frames (the usual
// upload), and of HEADERS+RST_STREAM pairs (the worst case: every frame
// counted, the clock read once per read).
func BenchmarkRead(b *testing.B) {
	b.Run("data", func(b *testing.B) {
		f := newFrames(false)
		for f.buf.Len() < 16<<10-1000 {
			f.fr.WriteData(1, false, bytes.Repeat([]byte("x"), 1000))
		}
		benchRead(b, f.bytes())
	})
	b.Run("resets", func(b *testing.B) {
		f := newFrames(false)
		for i := uint32(1); f.buf.Len() < 16<<10-100; i += 2 {
			f.openReset(i, 1)
		}
		benchRead(b, f.bytes())
	})
}

// BenchmarkWrite: the server's writes, 4 KiB at a time (x/net's write
// buffer), of HEADERS and DATA frames split anywhere.
func BenchmarkWrite(b *testing.B) {
	f := newFrames(false)
	for i := uint32(1); f.buf.Len() < 64<<10; i += 2 {
		f.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: i, BlockFragment: f.block, EndHeaders: true})
		f.fr.WriteData(i, true, bytes.Repeat([]byte("y"), 700))
	}
	stream := f.bytes()
	g := (&Policy{}).Wrap(&loopConn{}).(*Conn)
	b.SetBytes(4 << 10)
	b.ReportAllocs()
	off := 0
	for b.Loop() {
		if off+4<<10 > len(stream) {
			off = 0
			g.out = scanner{}
		}
		g.Write(stream[off : off+4<<10])
		off += 4 << 10
	}
}

// BenchmarkWrap: the cost per connection.
func BenchmarkWrap(b *testing.B) {
	p := &Policy{Now: func() time.Time { return time.Time{} }}
	c := &loopConn{}
	b.ReportAllocs()
	for b.Loop() {
		p.Wrap(c)
	}
}
