package h2guard

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// memConn is a net.Conn whose reads come from in, in chunks of the sizes
// given (cycled; 0 or none means all that is left), and whose writes
// collect in out. It records where a write of the guard's own GOAWAY
// buffer (told apart by its address, not its bytes) fell in out.
type memConn struct {
	in     []byte
	sizes  []int
	next   int
	out    bytes.Buffer
	goaway *byte // &Conn.goaway[0], once known
	at     []int // offsets in out where the GOAWAY was written
	closed bool
}

func (m *memConn) Read(p []byte) (int, error) {
	if len(m.in) == 0 {
		return 0, io.EOF
	}
	n := len(m.in)
	if len(m.sizes) > 0 {
		if s := m.sizes[m.next%len(m.sizes)]; s > 0 && s < n {
			n = s
		}
		m.next++
	}
	n = copy(p, m.in[:n])
	m.in = m.in[n:]
	return n, nil
}

func (m *memConn) Write(p []byte) (int, error) {
	if m.closed {
		return 0, net.ErrClosed
	}
	if len(p) > 0 && &p[0] == m.goaway {
		m.at = append(m.at, m.out.Len())
	}
	return m.out.Write(p)
}

func (m *memConn) Close() error                     { m.closed = true; return nil }
func (m *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 443} }
func (m *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 50000} }
func (m *memConn) SetDeadline(time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }

// wrapMem wraps m under p and tells m the guard's GOAWAY buffer.
func wrapMem(m *memConn, p *Policy) *Conn {
	g := p.Wrap(m).(*Conn)
	m.goaway = &g.goaway[0]
	return g
}

// oneByteConn returns at most one byte per Read, to split every frame
// header the client sends.
type oneByteConn struct{ net.Conn }

func (c oneByteConn) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return c.Conn.Read(p)
}

// frames builds byte streams of HTTP/2 frames with x/net's Framer.
type frames struct {
	buf   bytes.Buffer
	fr    *http2.Framer
	block []byte
}

// newFrames starts a stream; client streams begin with the preface.
func newFrames(client bool) *frames {
	f := &frames{}
	if client {
		f.buf.WriteString(http2.ClientPreface)
	}
	f.fr = http2.NewFramer(&f.buf, nil)
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, kv := range [][2]string{{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {":authority", "guard.test"}} {
		enc.WriteField(hpack.HeaderField{Name: kv[0], Value: kv[1]})
	}
	f.block = hb.Bytes()
	return f
}

// openReset adds n streams from first on (odd ids), each HEADERS with
// END_STREAM then RST_STREAM CANCEL.
func (f *frames) openReset(first uint32, n int) *frames {
	for i := range uint32(n) {
		id := first + 2*i
		f.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: f.block, EndStream: true, EndHeaders: true})
		f.fr.WriteRSTStream(id, http2.ErrCodeCancel)
	}
	return f
}

// mixed adds frames of every shape the scanner must pass over: SETTINGS,
// a header block in three frames, DATA with and without padding, an empty
// DATA, PING, WINDOW_UPDATE, PRIORITY and trailers on an open stream.
func (f *frames) mixed(stream uint32) *frames {
	f.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20})
	half := len(f.block) / 2
	f.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: f.block[:half]})
	f.fr.WriteContinuation(stream, false, f.block[half:half+1])
	f.fr.WriteContinuation(stream, true, f.block[half+1:])
	f.fr.WriteData(stream, false, bytes.Repeat([]byte("d"), 3000))
	f.fr.WriteDataPadded(stream, false, []byte("padded"), make([]byte, 200))
	f.fr.WriteData(stream, false, nil)
	f.fr.WritePing(false, [8]byte{1})
	f.fr.WriteWindowUpdate(0, 1000)
	f.fr.WritePriority(stream+2, http2.PriorityParam{StreamDep: stream, Weight: 10})
	f.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: stream, BlockFragment: f.block, EndStream: true, EndHeaders: true})
	return f
}

func (f *frames) bytes() []byte { return bytes.Clone(f.buf.Bytes()) }

// readAllFrames parses b as a server's frames and returns their types,
// failing t on any framing error (including a frame inside a header block).
func readAllFrames(t *testing.T, b []byte) []http2.FrameType {
	t.Helper()
	fr := http2.NewFramer(nil, bytes.NewReader(b))
	var types []http2.FrameType
	for {
		f, err := fr.ReadFrame()
		if err == io.EOF {
			return types
		}
		if err != nil {
			t.Fatalf("frame %d: %v", len(types), err)
		}
		types = append(types, f.Header().Type)
	}
}
