package h2guard

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// FuzzGuard feeds arbitrary client bytes, in arbitrary read sizes, and
// arbitrary server bytes, in arbitrary write sizes, through a guard that
// trips easily. It must never panic; the client's bytes it passes on are
// a prefix of what was read; the server's bytes pass unchanged but for at
// most one GOAWAY, written at a point where the server's stream was
// between whole frames.
func FuzzGuard(f *testing.F) {
	f.Add(newFrames(true).openReset(1, 3).bytes(), newFrames(false).mixed(2).bytes(), []byte{1, 9, 30}, uint8(2))
	f.Add(newFrames(true).mixed(1).openReset(3, 5).bytes(), newFrames(false).mixed(2).bytes(), []byte{0}, uint8(1))
	f.Add([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\xff\xff\xff\x03\x00\x00\x00\x00\x01"), []byte{0, 0, 0, 1, 4, 0, 0, 0, 1}, []byte{7}, uint8(0))
	f.Fuzz(func(t *testing.T, in, out, sizes []byte, minResets uint8) {
		m := &memConn{in: bytes.Clone(in)}
		for _, s := range sizes {
			m.sizes = append(m.sizes, int(s))
		}
		g := wrapMem(m, &Policy{MinResets: int(minResets%4) + 1, CloseAfter: time.Hour})
		var read []byte
		buf := make([]byte, 64)
		// Interleave: a read, then a write of the next piece.
		rest := out
		for i := 0; ; i++ {
			n, err := g.Read(buf)
			read = append(read, buf[:n]...)
			if len(rest) > 0 {
				k := len(rest)
				if len(sizes) > 0 {
					k = min(k, int(sizes[i%len(sizes)])+1)
				}
				if w, err := g.Write(rest[:k]); w != k || err != nil {
					t.Fatalf("Write %d = %d, %v", k, w, err)
				}
				rest = rest[k:]
			}
			if err == io.EOF && len(rest) == 0 {
				break
			}
		}
		if !bytes.HasPrefix(in, read) {
			t.Fatal("the bytes read are not the client's")
		}
		got := m.out.Bytes()
		switch len(m.at) {
		case 0:
			if !bytes.Equal(got, out) {
				t.Fatal("the server's bytes changed")
			}
		case 1:
			at := m.at[0]
			if at > len(out) || !bytes.Equal(got[:at], out[:at]) || !bytes.Equal(got[at+goawayLen:], out[at:]) {
				t.Fatal("the server's bytes changed around the GOAWAY")
			}
			var s scanner
			s.skipAll(out[:at])
			if !s.atBoundary() {
				t.Fatalf("GOAWAY at %d, not between whole frames", at)
			}
		default:
			t.Fatalf("GOAWAY written %d times", len(m.at))
		}
		g.Close()
	})
}
