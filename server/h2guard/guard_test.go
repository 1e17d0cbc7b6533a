package h2guard

import (
	"bytes"
	"crypto/tls"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestCountsWhateverTheSplit: the same client bytes, read whole, one
// byte at a time or in random pieces, count the same streams and resets,
// and pass through unchanged.
func TestCountsWhateverTheSplit(t *testing.T) {
	f := newFrames(true).mixed(1).openReset(3, 40)
	f.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: f.block, EndStream: true, EndHeaders: true}) // trailers: no new stream
	f.fr.WriteRSTStream(3, http2.ErrCodeCancel)                                                                        // again: counted
	in := f.bytes()
	rnd := rand.New(rand.NewPCG(1, 2))
	random := make([]int, 200)
	for i := range random {
		random[i] = 1 + rnd.IntN(40)
	}
	for _, tc := range []struct {
		name  string
		sizes []int
	}{
		{"whole", nil},
		{"one byte", []int{1}},
		{"two and seven", []int{2, 7}},
		{"nine", []int{9}},
		{"random", random},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &memConn{in: in, sizes: tc.sizes}
			g := wrapMem(m, &Policy{MinResets: 1 << 20})
			got, err := io.ReadAll(g)
			if err != nil || !bytes.Equal(got, in) {
				t.Fatalf("read %d bytes (%v), want the %d given, unchanged", len(got), err, len(in))
			}
			if g.opened != 41 || g.resets != 41 || g.lastStream != 81 {
				t.Errorf("opened %d, resets %d, last stream %d; want 41, 41, 81", g.opened, g.resets, g.lastStream)
			}
			if tripped, _ := g.Tripped(); tripped {
				t.Error("tripped below MinResets")
			}
		})
	}
}

// TestPolicy is a table over the trip rule and the halving of counts,
// with an injected clock.
func TestPolicy(t *testing.T) {
	type step struct {
		at             time.Duration // since the connection began
		opened, resets int           // then opened n and reset m, in one read
	}
	for _, tc := range []struct {
		name  string
		steps []step
		trip  bool
	}{
		{"below MinResets", []step{{0, 99, 99}}, false},
		{"MinResets, all reset", []step{{0, 100, 100}}, true},
		{"many resets, a minority", []step{{0, 1000, 400}}, false},
		{"exactly half is not more", []step{{0, 400, 200}}, false},
		{"just over half", []step{{0, 399, 200}}, true},
		{"spread over windows", []step{{0, 60, 60}, {10 * time.Second, 60, 60}, {30 * time.Second, 60, 60}}, false},
		{"within a window", []step{{0, 60, 60}, {9 * time.Second, 60, 60}}, true},
		{"remembered by half", []step{{0, 70, 70}, {11 * time.Second, 70, 70}}, true},
		{"forgotten after many windows", []step{{0, 99, 99}, {time.Hour, 99, 99}}, false},
		{"normal traffic then a burst", []step{{0, 10000, 10}, {time.Second, 150, 150}}, false},
		{"resets of old streams", []step{{0, 100, 0}, {time.Second, 0, 100}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Unix(1e9, 0)
			var events []Event
			p := &Policy{MinResets: 100, Now: func() time.Time { return now }, CloseAfter: time.Hour,
				Listener: "web", OnTrip: func(e Event) { events = append(events, e) }}
			f := newFrames(true)
			m := &memConn{}
			g := wrapMem(m, p)
			start, id := now, uint32(1)
			buf := make([]byte, 64<<10)
			for _, s := range tc.steps {
				now = start.Add(s.at)
				for range s.opened {
					f.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: f.block, EndHeaders: true})
					id += 2
				}
				for i := range s.resets {
					f.fr.WriteRSTStream(id-2*uint32(i%max(s.opened, 1))-2, http2.ErrCodeCancel)
				}
				m.in = append(m.in, f.buf.Bytes()...)
				f.buf.Reset()
				for len(m.in) > 0 && !g.tripped {
					g.Read(buf)
				}
			}
			tripped, sent := g.Tripped()
			if tripped != tc.trip {
				t.Fatalf("tripped %v, want %v (opened %d, resets %d)", tripped, tc.trip, g.opened, g.resets)
			}
			if !tc.trip {
				return
			}
			if !sent || len(m.at) != 1 {
				t.Errorf("GOAWAY sent %v, at %v; want written once at once (no server write under way)", sent, m.at)
			}
			if len(events) != 1 || events[0].Listener != "web" || events[0].Resets < 100 || events[0].LastStream != g.lastStream ||
				events[0].Remote.String() != "127.0.0.2:50000" {
				t.Errorf("events %+v, want one for listener web, remote 127.0.0.2:50000, last stream %d", events, g.lastStream)
			}
			g.Close()
		})
	}
}

// TestGoAwayBetweenWholeFrames: whichever byte the server's output has
// reached when the guard trips, and however the rest is split into
// writes, the GOAWAY lands between two whole frames, never inside a
// header block, exactly once, and the server's own bytes pass unchanged.
func TestGoAwayBetweenWholeFrames(t *testing.T) {
	srv := newFrames(false).mixed(2).bytes()
	trip := newFrames(true).openReset(1, 5).bytes()
	for cut := 0; cut <= len(srv); cut++ {
		for _, piece := range []int{1, 5, 4096} {
			m := &memConn{in: trip}
			g := wrapMem(m, &Policy{MinResets: 5, CloseAfter: time.Hour})
			g.Write(srv[:cut])
			io.ReadAll(io.LimitReader(g, int64(len(trip))))
			if tripped, _ := g.Tripped(); !tripped {
				t.Fatal("did not trip")
			}
			for rest := srv[cut:]; len(rest) > 0; {
				n := min(piece, len(rest))
				if k, err := g.Write(rest[:n]); k != n || err != nil {
					t.Fatalf("cut %d: Write %d bytes = %d, %v", cut, n, k, err)
				}
				rest = rest[n:]
			}
			if len(m.at) != 1 {
				t.Fatalf("cut %d, pieces of %d: GOAWAY written at %v, want once", cut, piece, m.at)
			}
			out := m.out.Bytes()
			at := m.at[0]
			if !bytes.Equal(out[:at], srv[:at]) || !bytes.Equal(out[at+goawayLen:], srv[at:]) {
				t.Fatalf("cut %d: the server's bytes changed around the GOAWAY", cut)
			}
			types := readAllFrames(t, out)
			if at < cut {
				t.Fatalf("cut %d: GOAWAY at %d, before bytes already written", cut, at)
			}
			var goaways int
			for _, ty := range types {
				if ty == http2.FrameGoAway {
					goaways++
				}
			}
			if goaways != 1 {
				t.Fatalf("cut %d: frames %v, want one GOAWAY", cut, types)
			}
			g.Close()
		}
	}
}

// TestGoAwayFrame: the GOAWAY parses, says ENHANCE_YOUR_CALM, names the
// last stream the client opened and tells its origin in its debug data.
func TestGoAwayFrame(t *testing.T) {
	m := &memConn{in: newFrames(true).openReset(1, 10).openReset(101, 1).bytes()}
	g := wrapMem(m, &Policy{MinResets: 10, CloseAfter: time.Hour})
	io.ReadAll(g)
	fr := http2.NewFramer(nil, bytes.NewReader(m.out.Bytes()))
	f, err := fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	ga, ok := f.(*http2.GoAwayFrame)
	if !ok || ga.ErrCode != http2.ErrCodeEnhanceYourCalm || ga.LastStreamID != 101 || string(ga.DebugData()) != goawayDebug {
		t.Fatalf("got %v, want GOAWAY ENHANCE_YOUR_CALM, last stream 101 (the whole read), debug %q", f, goawayDebug)
	}
	g.Close()
}

// TestAfterTripReadsDiscard: once tripped, nothing more reaches the
// server, and the connection closes CloseAfter later.
func TestAfterTripReadsDiscard(t *testing.T) {
	m := &memConn{in: append(newFrames(true).openReset(1, 10).bytes(), "more frames the server must not see"...), sizes: []int{24 + 10*30}}
	g := wrapMem(m, &Policy{MinResets: 10, CloseAfter: 10 * time.Millisecond})
	buf := make([]byte, 1024)
	for !g.tripped {
		g.Read(buf)
	}
	if n, err := g.Read(buf); n != 0 || err != io.EOF {
		t.Errorf("read after trip = %d, %v; want 0, EOF (discarded to the end)", n, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !g.isClosed() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if !g.isClosed() {
		t.Error("not closed after CloseAfter")
	}
}

func (c *Conn) isClosed() bool {
	c.life.Lock()
	defer c.life.Unlock()
	return c.closed
}

// TestWrapKeepsTLSState: a *tls.Conn wrapped still tells its TLS state
// (x/net's server requires it for h2 over TLS); a plain conn does not
// pretend to have one (x/net would then treat h2c as TLS and refuse it).
func TestWrapKeepsTLSState(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	type stater interface{ ConnectionState() tls.ConnectionState }
	if _, ok := new(Policy).Wrap(a).(stater); ok {
		t.Error("a plain conn wrapped has ConnectionState")
	}
	w := new(Policy).Wrap(tls.Server(a, &tls.Config{}))
	if _, ok := w.(stater); !ok {
		t.Error("a TLS conn wrapped has no ConnectionState")
	}
	if _, ok := w.(interface{ NetConn() net.Conn }).NetConn().(*tls.Conn); !ok {
		t.Error("NetConn does not return the *tls.Conn")
	}
}
