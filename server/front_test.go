package server

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
)

// tcpPair returns the two ends of a loopback TCP connection, closed at
// cleanup.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestPeekPreface tells h2c's preface from HTTP/1.1 as soon as the bytes
// allow, however the client splits them, and replays every byte peeked.
func TestPeekPreface(t *testing.T) {
	t.Parallel()
	frames := "\x00\x00\x00\x04\x00\x00\x00\x00\x00" // an empty SETTINGS frame
	for _, tc := range []struct {
		name   string
		writes []string // what the client sends, one write each, then it waits
		h2     bool
		err    bool // peekPreface fails (the connection is then closed)
	}{
		{"full preface", []string{string(h2cPreface) + frames}, true, false},
		{"preface one byte at a time", split(string(h2cPreface)), true, false},
		{"HTTP/1.1 request", []string{"GET / HTTP/1.1\r\nHost: example.test\r\n\r\n"}, false, false},
		{"HTTP/1.1 one byte at a time", split("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n"), false, false},
		// Shorter than the preface: told apart by its first byte, with no
		// wait for 24 bytes that will not come.
		{"short request line", []string{"GET / HTTP/1.0\r\n\r\n"}, false, false},
		{"PUT, sharing the preface's first byte", []string{"PUT /x HTTP/1.1\r\nHost: example.test\r\n\r\n"}, false, false},
		{"preface that turns out otherwise", []string{"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"}, false, false},
		{"preface cut short by a hang-up", []string{"PRI * HTTP/2.0\r\n", ""}, false, true},
		{"preface stalled past read_header_timeout", []string{"PRI * HTTP/2.0\r\n"}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			client, server := tcpPair(t)
			f := &front{plan: &plan{cfg: config.Listener{H2C: true, ReadHeaderTimeout: config.Duration(600 * time.Millisecond)}},
				log: slog.New(slog.DiscardHandler)}
			wrote := make(chan struct{})
			go func() {
				defer close(wrote)
				for _, w := range tc.writes {
					if w == "" {
						client.(*net.TCPConn).CloseWrite()
						return
					}
					client.Write([]byte(w))
					if len(tc.writes) > 1 {
						time.Sleep(time.Millisecond) // most likely one read each
					}
				}
			}()
			type result struct {
				pc  net.Conn
				h2  bool
				err error
			}
			done := make(chan result, 1)
			go func() {
				pc, h2, err := f.peekPreface(server)
				done <- result{pc, h2, err}
			}()
			var res result
			select {
			case res = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("peekPreface still waiting after 5s")
			}
			if tc.err {
				if res.err == nil {
					t.Fatalf("peekPreface succeeded (h2 %v), want an error", res.h2)
				}
				if stalled := tc.writes[len(tc.writes)-1] != ""; stalled && !errors.Is(res.err, os.ErrDeadlineExceeded) {
					t.Errorf("stalled preface: %v, want the read_header_timeout deadline", res.err)
				}
				return
			}
			if res.err != nil || res.h2 != tc.h2 {
				t.Fatalf("peekPreface: h2 %v, %v; want h2 %v", res.h2, res.err, tc.h2)
			}
			var want string
			for _, w := range tc.writes {
				want += w
			}
			// The deadline set for the peek is gone: the rest of the bytes
			// are read at the client's pace. Waiting past the 600ms
			// read_header_timeout proves it.
			time.Sleep(700 * time.Millisecond)
			<-wrote
			client.(*net.TCPConn).CloseWrite()
			got, err := io.ReadAll(res.pc)
			if err != nil || string(got) != want {
				t.Errorf("replayed %q, %v; want %q", got, err, want)
			}
		})
	}
}

// split returns s one byte per element.
func split(s string) []string {
	out := make([]string, len(s))
	for i := range s {
		out[i] = s[i : i+1]
	}
	return out
}

// TestPeekedConnHalfCloses: the connection the HTTP/1.1 engine gets on
// an h2c listener half-closes like a plain one, so that net/http's
// close-after-error (431, a body over its limit) sends its FIN at once
// instead of closing 500ms later, possibly with a reset that loses the
// answer.
func TestPeekedConnHalfCloses(t *testing.T) {
	t.Parallel()
	client, server := tcpPair(t)
	f := &front{plan: &plan{cfg: config.Listener{H2C: true}}, log: slog.New(slog.DiscardHandler)}
	go client.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	pc, _, err := f.peekPreface(server)
	if err != nil {
		t.Fatal(err)
	}
	c := &conn{Conn: pc}
	if _, ok := pc.(interface{ CloseWrite() error }); !ok {
		t.Errorf("%T has no CloseWrite: conn.CloseWrite does nothing on h2c listeners", pc)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	client.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := client.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("client read after the server's CloseWrite: %v, want EOF", err)
	}
}

// TestLooksLikeHTTP spots plain HTTP/1.x in the five bytes a TLS
// handshake reads as a record header, and only there.
func TestLooksLikeHTTP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		hdr  string
		want bool
	}{
		{"GET /", true}, {"HEAD ", true}, {"POST ", true}, {"PUT /", true}, {"OPTIO", true},
		{"DELET", true}, {"PATCH", true}, {"CONNE", true}, {"TRACE", true},
		{"\x16\x03\x01\x02\x00", false}, // a ClientHello's record header
		{"\x16\x03\x03\x00\x7a", false},
		{"get /", false},
		{"GET", false}, // shorter than a record header: never what the handshake gives
		{"PRI *", false},
		{"", false},
	} {
		if got := looksLikeHTTP([]byte(tc.hdr)); got != tc.want {
			t.Errorf("looksLikeHTTP(%q) = %v, want %v", tc.hdr, got, tc.want)
		}
	}
}
