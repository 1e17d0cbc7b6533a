package h1

import (
	"bufio"
	"bytes"
	"encoding/gob"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzChunked sends a chunked POST with the fuzzed bytes as its body to
// a real Server on loopback, whose handler reads the body whole and
// reports it with r.Trailer, and compares with net/http reading the
// same request: ReadRequest's Body is the chunked reader that
// httputil.NewChunkedReader wraps, followed by the trailer section. The
// engine must read every body net/http reads the same way, unless it
// falls in a deliberate difference of bodyDifferences (where the engine
// refuses), and refuse every body net/http refuses.
func FuzzChunked(f *testing.F) {
	for _, s := range chunkSeeds {
		f.Add([]byte(s))
	}
	checkLeaks(f) // registered first, so it runs after the server's shutdown
	addr := startServer(f, &Server{Handler: http.HandlerFunc(reportBody), MaxHeaderCount: fieldLimit})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxDiffInput-len(chunkedHead) {
			return
		}
		ours, err := postChunked(addr, b)
		if err != nil {
			t.Fatalf("body %q: %v", b, err)
		}
		std := stdChunked(b)
		switch {
		case ours.Err == "" && std.Err != "":
			t.Fatalf("the engine reads a body net/http refuses (%s)\nbody: %q\nours: %+v", std.Err, b, ours)
		case ours.Err != "" && std.Err == "":
			if bodyDifference([]byte(chunkedHead+string(b))) == "" {
				t.Fatalf("the engine refuses (%s) a body net/http reads, outside every deliberate difference\nbody: %q\nnet/http: %+v", ours.Err, b, std)
			}
		case ours.Err == "" && (ours.Body != std.Body || !equalHeader(ours.Trailer, std.Trailer)):
			t.Fatalf("the body or trailer differs\nbody: %q\nours:     %+v\nnet/http: %+v", b, ours, std)
		}
	})
}

const chunkedHead = "POST /chunked HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"

// bodyReport is what the handler read: the body, the error that ended
// it ("" for none) and the trailer.
type bodyReport struct {
	Body    string
	Err     string
	Trailer http.Header
}

func reportBody(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	rep := bodyReport{Body: string(b), Trailer: nonEmpty(r.Trailer)}
	if err != nil {
		rep.Err = err.Error()
	}
	gob.NewEncoder(w).Encode(rep) // gob keeps a string's bytes as they are; JSON would not
}

// postChunked sends the chunked request with body b on a connection of
// its own, half-closes it (a body cut short ends instead of waiting) and
// reads the handler's report.
func postChunked(addr string, b []byte) (bodyReport, error) {
	var rep bodyReport
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return rep, err
	}
	tc := c.(*net.TCPConn)
	defer func() {
		tc.SetLinger(0) // no TIME_WAIT: one connection per input adds up
		tc.Close()
	}()
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := tc.Write(append([]byte(chunkedHead), b...)); err != nil {
		return rep, err
	}
	tc.CloseWrite()
	res, err := http.ReadResponse(bufio.NewReader(tc), nil)
	if err != nil {
		return rep, fmt.Errorf("no answer: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return rep, fmt.Errorf("answered %s, not the handler's report", res.Status)
	}
	if err := gob.NewDecoder(res.Body).Decode(&rep); err != nil {
		return rep, fmt.Errorf("the handler's report: %w", err)
	}
	return rep, nil
}

// stdChunked reads the request as net/http's server does.
func stdChunked(b []byte) bodyReport {
	r, err := http.ReadRequest(bufio.NewReader(io.MultiReader(strings.NewReader(chunkedHead), bytes.NewReader(b))))
	if err != nil {
		panic("net/http refuses the fixed head: " + err.Error())
	}
	got, err := io.ReadAll(r.Body)
	rep := bodyReport{Body: string(got), Trailer: nonEmpty(r.Trailer)}
	if err != nil {
		rep.Err = err.Error()
	}
	return rep
}

func equalHeader(a, b http.Header) bool {
	return fmt.Sprint(nonEmpty(a)) == fmt.Sprint(nonEmpty(b)) // map printing is sorted
}

// bodyDifferences are the deliberate differences of a chunked body: the
// engine checks what RFC 9112 section 7.1 allows where net/http's
// reader does not. Each is a row of differences.md.
var bodyDifferences = []struct {
	name  string
	holds func(sizes, trailer [][]byte) bool
}{
	{"ChunkLineSyntax", func(sizes, _ [][]byte) bool { return anyLine(sizes, chunkLineOK) }},
	{"ChunkExtensionWhitespace", func(sizes, _ [][]byte) bool { return anyLine(sizes, chunkLineTight) }},
	{"ChunkSizeOver15Digits", func(sizes, _ [][]byte) bool {
		return anyLine(sizes, func(l []byte) bool { return hexDigits(l) < 16 })
	}},
	{"TrailerSyntax", func(_, trailer [][]byte) bool { return anyLine(trailer, trailerLineOK) }},
	{"TooManyTrailerFields", func(_, trailer [][]byte) bool { return len(trailer)-1 > fieldLimit }},
}

// bodyDifference names the deliberate difference the body of req (a
// request from its first byte, as net/http reads it) falls in, or "".
func bodyDifference(req []byte) string {
	h := splitHead(req)
	if h.size == 0 || h.count("Transfer-Encoding") == 0 {
		return "" // a Content-Length body: no difference
	}
	sizes, trailer := stdChunks(req[h.size:])
	for _, d := range bodyDifferences {
		if d.holds(sizes, trailer) {
			return d.name
		}
	}
	return ""
}

// anyLine reports whether a line fails ok.
func anyLine(lines [][]byte, ok func([]byte) bool) bool {
	for _, l := range lines {
		if !ok(l) {
			return true
		}
	}
	return false
}

// stdChunks splits a chunked body as net/http's reader walks it: its
// chunk-size lines and its trailer lines (the empty one that ends the
// section included), each with its line end.
func stdChunks(b []byte) (sizes, trailer [][]byte) {
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return sizes, nil
		}
		line := b[:i+1]
		b = b[i+1:]
		sizes = append(sizes, line)
		s, _, _ := bytes.Cut(bytes.TrimRight(bytes.TrimSuffix(line, []byte("\r\n")), " \t"), []byte(";"))
		n, err := strconv.ParseUint(string(s), 16, 64)
		if err != nil {
			return sizes, nil
		}
		if n == 0 {
			break
		}
		if uint64(len(b)) < n+2 {
			return sizes, nil
		}
		b = b[n+2:]
	}
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return sizes, trailer
		}
		trailer = append(trailer, b[:i+1])
		if i == 0 || i == 1 && b[0] == '\r' {
			return sizes, trailer
		}
		b = b[i+1:]
	}
}

// The grammar of RFC 9112 section 7.1 and RFC 9110 section 5.5, written
// apart from the engine's code, over lines where every byte of 0x80 and
// above is shown as Ā (obs-text).
var (
	tokenRE   = "[!#$%&'*+.^_`|~0-9A-Za-z-]+"
	quotedRE  = `"(?:[\t !#-\[\]-~Ā]|\\[\t -~Ā])*"`
	chunkRE   = regexp.MustCompile(`^[0-9A-Fa-f]+(?:[ \t]*;[ \t]*` + tokenRE + `(?:[ \t]*=[ \t]*(?:` + tokenRE + `|` + quotedRE + `))?)*\r\n$`)
	tightRE   = regexp.MustCompile(`^[0-9A-Fa-f]+(?:;` + tokenRE + `(?:=(?:` + tokenRE + `|` + quotedRE + `))?)*\r\n$`)
	trailerRE = regexp.MustCompile(`^` + tokenRE + `:[\t !-~Ā]*\r\n$`)
)

func chunkLineOK(l []byte) bool { return chunkRE.MatchString(obsText(l)) }

// chunkLineTight: the line is valid with no whitespace (BWS) in its
// extensions, or not valid at all (ChunkLineSyntax's business).
func chunkLineTight(l []byte) bool {
	return !chunkLineOK(l) || tightRE.MatchString(obsText(l))
}
func trailerLineOK(l []byte) bool {
	return string(l) == "\r\n" || trailerRE.MatchString(obsText(l))
}

func obsText(l []byte) string {
	var b strings.Builder
	for _, c := range l {
		if c >= 0x80 {
			b.WriteRune('Ā')
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func hexDigits(l []byte) int {
	n := 0
	for n < len(l) && strings.IndexByte("0123456789abcdefABCDEF", l[n]) >= 0 {
		n++
	}
	return n
}

// chunkSeeds: bodies well formed and not, one of each kind.
var chunkSeeds = []string{
	"0\r\n\r\n",
	"5\r\nhello\r\n0\r\n\r\n",
	"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n",
	"A\r\n0123456789\r\n0\r\nX-Sum: 1\r\nX-Other: 2\r\nx-sum: 3\r\n\r\n",
	"00005\r\nhello\r\n000\r\n\r\n",
	"5;name\r\nhello\r\n5;a=b;c=\"d e\";f=\"\\\"\"\r\nworld\r\n0;last\r\n\r\n",
	"5;a=\"caf\xc3\xa9\"\r\nhello\r\n0\r\n\r\n",
	"5;a = b\r\nhello\r\n0\r\n\r\n",
	"5; a\r\nhello\r\n0\r\n\r\n",
	"5;a\t=\t\"q\"\r\nhello\r\n0\r\n\r\n",
	"5;\r\nhello\r\n0\r\n\r\n",
	"5;a=\r\nhello\r\n0\r\n\r\n",
	"5;a=\"x\r\nhello\r\n0\r\n\r\n",
	"5;a b\r\nhello\r\n0\r\n\r\n",
	"5 \r\nhello\r\n0\r\n\r\n",
	"5;a \r\nhello\r\n0\r\n\r\n",
	"5x\r\nhello\r\n0\r\n\r\n",
	"x\r\nhello\r\n0\r\n\r\n",
	"\r\nhello\r\n0\r\n\r\n",
	"-5\r\nhello\r\n0\r\n\r\n",
	"0x5\r\nhello\r\n0\r\n\r\n",
	"0000000000000005\r\nhello\r\n0\r\n\r\n",
	"000000000000005\r\nhello\r\n0\r\n\r\n",
	"10000000000000000\r\nhello\r\n0\r\n\r\n",
	"ffffffffffffffff\r\nhello\r\n0\r\n\r\n",
	"5\nhello\r\n0\r\n\r\n",
	"5\r\nhello\n0\r\n\r\n",
	"5\r\nhello\r\n0\n\r\n",
	"5\r\nhello\r\n0\r\n\n",
	"5\r\nhelloXY0\r\n\r\n",
	"5\r\nhel",
	"5\r\nhello\r\n",
	"5\r\nhello\r\n0\r\n",
	"5\r\r\nhello\r\n0\r\n\r\n",
	"5\r\nhello\r\n0\r\nX-Sum: 1\n\r\n",
	"5\r\nhello\r\n0\r\nX-Sum : 1\r\n\r\n",
	"5\r\nhello\r\n0\r\nX-Sum: 1\r\n continued\r\n\r\n",
	"5\r\nhello\r\n0\r\n X-Sum: 1\r\n\r\n",
	"5\r\nhello\r\n0\r\nX-Sum: a\x00b\r\n\r\n",
	"5\r\nhello\r\n0\r\nX-Sum 1\r\n\r\n",
	"5\r\nhello\r\n0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: example.test\r\n\r\n",
	"0\r\n" + strings.Repeat("X-A: 1\r\n", fieldLimit+1) + "\r\n",
}
