package h1client

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/textproto"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/internal/hop"
)

// headSeeds are response heads from the framing tests, the malformed ones
// included.
var headSeeds = []string{
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello",
	"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello",
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: abc\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
	"HTTP/1.1 200 OK\r\n\r\nclose-delimited",
	"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n",
	"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
	"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n",
	"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n",
	"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n",
	"HTTP/1.0 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: X-A, Close\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX-Fold: a\r\n  b \r\n\tc\r\nContent-Length: 2\r\n\r\n",
	"HTTP/1.1 200 OK\nContent-Length: 2\nX-A: 1\n\n",
	"\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n",
	"HTTP/1.1 299\r\n\r\n",
	"HTTP/1.1 20 OK\r\n\r\n",
	"HTTP/1.1 +99 OK\r\n\r\n",
	"HTTP/1.1 200OK\r\n\r\n",
	"HTTP/2.0 200 OK\r\n\r\n",
	"ICY 200 OK\r\n\r\n",
	"HTTP/1.1 200 OK\r\nNo colon\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n",
	"HTTP/1.1 200 OK\r\n folded first\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX-A: a\r\n \x00b\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n",
	"HTTP/1.1 200 OK\r\nConnection: X-Secret, keep-alive\r\nX-Secret: s\r\nKeep-Alive: 5\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n",
	"HTTP/1.1 200 OK\r\nAlt-Svc: h2=\":1\"\r\nAlt-Svc: h3=\":2\"\r\n\r\n",
	"HTTP/1.1 200 OK\r\nX-Huge: " + strings.Repeat("a", 5000) + "\r\n\r\n",
}

// FuzzParseHead feeds arbitrary bytes to the response head parser. It
// must never panic, and a head it accepts must be framed consistently:
// no body means length 0 and not chunked; chunked means no length; a body
// delimited by the close, Connection: close, HTTP/1.0 without keep-alive
// and a bodied message with both Transfer-Encoding and Content-Length
// all leave the connection unusable. (Bodiless messages with both are
// TestBugBodilessTEAndCLKeptAlive.) Where net/http's parser accepts the
// same head, the two agree on the status and the body's framing.
func FuzzParseHead(f *testing.F) {
	for _, s := range headSeeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, isHead bool) {
		if len(data) > 16<<10 {
			// Relaying a head costs time quadratic in its fields (see
			// TestBugQuadraticHead): big inputs would stall the fuzzer.
			return
		}
		pc := &pconn{br: bufio.NewReaderSize(bytes.NewReader(data), bufSize)}
		h, _, err := pc.readHead(isHead)
		if err != nil {
			return
		}
		checkHead(t, data, h, isHead, string(pc.scratch[:8]) == "HTTP/1.0")

		// Relaying the accepted head must not panic either, nor let a
		// hop-by-hop field through.
		dst := http.Header{"Alt-Svc": {"listener"}}
		copyFields(dst, h.fields)
		for k := range dst {
			if hop.Is(k) {
				t.Errorf("hop-by-hop %s relayed", k)
			}
		}
		if got := dst["Alt-Svc"]; len(got) == 0 || got[0] != "listener" {
			t.Errorf("the listener's Alt-Svc replaced: %q", got)
		}
		trailerKeys(h.trailer)
	})
}

func checkHead(t *testing.T, data []byte, h head, isHead, http10 bool) {
	if h.status < 100 || h.status > 999 {
		t.Fatalf("status %d accepted", h.status)
	}
	var te, cl, closeTok, keepTok bool
	var clVal string
	for _, f := range h.fields {
		if f.key == "" || !validName(f.key) {
			t.Fatalf("field name %q accepted", f.key)
		}
		// (A NUL on a continuation line gets through: that is
		// TestBugNULInFoldedValue.)
		folded := bytes.Contains(data, []byte("\n ")) || bytes.Contains(data, []byte("\n\t"))
		if strings.Contains(f.val, "\n") || !folded && strings.Contains(f.val, "\x00") {
			t.Fatalf("field value %q accepted", f.val)
		}
		// (A fold onto an empty value leaves a leading space: " 0" for
		// "A:\r\n 0"; harmless, net/http trims values it writes.)
		if f.val != strings.TrimRight(f.val, " \t") {
			t.Fatalf("field value %q not trimmed", f.val)
		}
		switch f.key {
		case "Transfer-Encoding":
			te = true
		case "Content-Length":
			cl, clVal = true, f.val
		case "Connection":
			closeTok = closeTok || tokenIn(f.val, "close")
			keepTok = keepTok || tokenIn(f.val, "keep-alive")
		}
	}
	if h.noBody && (h.length != 0 || h.chunked) {
		t.Fatalf("no body, but length %d chunked %v", h.length, h.chunked)
	}
	if h.chunked && h.length != -1 {
		t.Fatalf("chunked with length %d", h.length)
	}
	if !h.noBody && te && cl && h.keepAlive {
		t.Fatalf("Transfer-Encoding and Content-Length, yet keep-alive")
	}
	if !h.noBody && !h.chunked && h.length < 0 && h.keepAlive {
		t.Fatalf("a body delimited by the close, yet keep-alive")
	}
	if closeTok && h.keepAlive {
		t.Fatalf("Connection: close, yet keep-alive")
	}
	if http10 && !keepTok && h.keepAlive {
		t.Fatalf("HTTP/1.0 without keep-alive, yet keep-alive")
	}
	if !h.noBody && !te && cl {
		if n, err := parseLength(clVal); err != nil || n != h.length {
			t.Fatalf("Content-Length %q framed as %d", clVal, h.length)
		}
	}

	// net/http's parser, where it accepts the same bytes.
	method := http.MethodGet
	if isHead {
		method = http.MethodHead
	}
	res, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), &http.Request{Method: method})
	if err != nil {
		return
	}
	defer res.Body.Close()
	if res.StatusCode != h.status {
		t.Fatalf("status %d, net/http reads %d", h.status, res.StatusCode)
	}
	if h.noBody || http10 && te {
		return // net/http ignores Transfer-Encoding in HTTP/1.0
	}
	if chunked := len(res.TransferEncoding) > 0; chunked != h.chunked {
		t.Fatalf("chunked %v, net/http says %v", h.chunked, chunked)
	}
	if !h.chunked && res.ContentLength != h.length {
		t.Fatalf("length %d, net/http says %d", h.length, res.ContentLength)
	}
}

// FuzzTakeBuffered: reading a head that is already in the buffer
// (takeHead, or readHead where it declines) gives what reading it line
// by line gives: the same head or error, and the same bytes left.
func FuzzTakeBuffered(f *testing.F) {
	for _, s := range headSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 16<<10 {
			return
		}
		read := func(prefill bool) (head, bool, error, string, string) {
			pc := &pconn{br: bufio.NewReaderSize(bytes.NewReader(data), bufSize)}
			var h head
			var err error
			ok, got := false, true
			if prefill {
				pc.br.Peek(min(len(data), bufSize))
				h, ok, err = pc.takeHead(false)
			}
			if !ok {
				h, got, err = pc.readHead(false)
			}
			rest, _ := io.ReadAll(pc.br)
			return h, got, err, string(pc.scratch), string(rest)
		}
		h1, got1, err1, s1, rest1 := read(false)
		h2, got2, err2, s2, rest2 := read(true)
		if (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() {
			t.Fatalf("line by line: %v; from the buffer: %v", err1, err2)
		}
		if err1 != nil {
			if got1 != got2 {
				t.Fatalf("gotByte %v line by line, %v from the buffer (%v)", got1, got2, err1)
			}
			return
		}
		if s1 != s2 || rest1 != rest2 || !reflect.DeepEqual(h1, h2) {
			t.Fatalf("line by line: %+v %q, rest %q; from the buffer: %+v %q, rest %q", h1, s1, rest1, h2, s2, rest2)
		}
	})
}

// FuzzFieldKey: fieldKey is validName and textproto's canonical form in
// one pass, and trimOWS is strings.Trim of spaces and tabs.
func FuzzFieldKey(f *testing.F) {
	for _, s := range []string{"content-length", "ETag", "X-A", "x-", "-a", "a b", "Ä", "X\x00", "", " \ta b\t "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, ok := fieldKey(s)
		if ok != validName(s) {
			t.Fatalf("fieldKey(%q) ok %v, validName %v", s, ok, validName(s))
		}
		if ok && key != textproto.CanonicalMIMEHeaderKey(s) {
			t.Fatalf("fieldKey(%q) = %q, textproto says %q", s, key, textproto.CanonicalMIMEHeaderKey(s))
		}
		if got, want := trimOWS(s), strings.Trim(s, " \t"); got != want {
			t.Fatalf("trimOWS(%q) = %q, want %q", s, got, want)
		}
		ref := true // validName as it was, byte by byte
		for i := 0; i < len(s); i++ {
			c := s[i]
			ref = ref && ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
				strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0)
		}
		if ok != ref {
			t.Fatalf("validName(%q) = %v, want %v", s, ok, ref)
		}
	})
}
