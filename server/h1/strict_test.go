package h1

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// strictCase is one requirement of RFC 9112 (or 9110) checked on the
// wire: the bytes sent, the statuses of the answers in order, whether
// the server must close the connection after them, and the requests the
// handler must have seen (path, and whether reading its body failed).
type strictCase struct {
	name   string
	send   string
	status []int
	closed bool
	served []served
}

// served is a request the handler saw: its path, and whether its read
// of the body failed. A path starting /unread is answered without
// reading the body.
type served struct {
	path    string
	bodyErr bool
}

const (
	status200 = http.StatusOK
	status400 = http.StatusBadRequest
	strictMB  = 8 << 10 // the strict server's MaxHeaderBytes
)

const testHost = "Host: example.test\r\n"

// getReq is a request for path with the fields given, on HTTP/1.1.
func getReq(path string, fields ...string) string {
	return "GET " + path + " HTTP/1.1\r\n" + testHost + strings.Join(fields, "") + "\r\n"
}

// postReq is a POST with the fields given and body.
func postReq(path, body string, fields ...string) string {
	return "POST " + path + " HTTP/1.1\r\n" + testHost + strings.Join(fields, "") + "\r\n" + body
}

const teChunked = "Transfer-Encoding: chunked\r\n"

// smuggledReq must never reach the handler: it hides in a body, or
// follows a refused request.
var smuggledReq = getReq("/smuggled")

var strictCases = []strictCase{
	{"9112-6.1/ContentLengthAndTransferEncoding",
		postReq("/", "0\r\n\r\n"+smuggledReq, "Content-Length: 5\r\n", teChunked), []int{status400}, true, nil},
	{"9112-6.1/TransferEncodingAndContentLength",
		postReq("/", "0\r\n\r\n"+smuggledReq, teChunked, "Content-Length: 5\r\n"), []int{status400}, true, nil},
	{"9112-6.1/TransferEncodingInHTTP10",
		"POST / HTTP/1.0\r\n" + testHost + teChunked + "\r\n0\r\n\r\n" + smuggledReq, []int{status400}, true, nil},
	{"9112-6.1/ChunkedTwice", postReq("/", "0\r\n\r\n", "Transfer-Encoding: chunked, chunked\r\n"), []int{status400}, true, nil},
	{"9112-6.1/ChunkedTwiceInTwoFields", postReq("/", "0\r\n\r\n", teChunked, teChunked), []int{status400}, true, nil},
	{"9112-6.1/UnknownCoding", postReq("/", "0\r\n\r\n", "Transfer-Encoding: gzip, chunked\r\n"), []int{http.StatusNotImplemented}, true, nil},
	{"9112-6.3/TransferEncodingNotEndingInChunked", postReq("/", "0\r\n\r\n", "Transfer-Encoding: chunked, gzip\r\n"), []int{status400}, true, nil},
	{"9112-6.3/TransferEncodingWithoutChunked", postReq("/", "", "Transfer-Encoding: gzip\r\n"), []int{status400}, true, nil},
	{"9112-6.3/DuplicateContentLengthEqual", postReq("/", "abc", "Content-Length: 3\r\n", "Content-Length: 3\r\n"), []int{status400}, true, nil},
	{"9112-6.3/DuplicateContentLengthDiffer", postReq("/", "abcd", "Content-Length: 3\r\n", "Content-Length: 4\r\n"), []int{status400}, true, nil},
	{"9112-6.3/ContentLengthList", postReq("/", "abc", "Content-Length: 3, 3\r\n"), []int{status400}, true, nil},
	{"9110-8.6/ContentLengthSign", postReq("/", "abc", "Content-Length: +3\r\n"), []int{status400}, true, nil},
	{"9110-8.6/ContentLengthNegative", postReq("/", "", "Content-Length: -1\r\n"), []int{status400}, true, nil},
	{"9110-8.6/ContentLengthHex", postReq("/", "abc", "Content-Length: 0x3\r\n"), []int{status400}, true, nil},
	{"9110-8.6/ContentLengthSpaceInside", postReq("/", "abc", "Content-Length: 1 2\r\n"), []int{status400}, true, nil},
	{"9110-8.6/ContentLengthOverflow", postReq("/", "", "Content-Length: 99999999999999999999\r\n"), []int{status400}, true, nil},
	{"9110-8.6/ContentLengthEmpty", postReq("/", "", "Content-Length:\r\n"), []int{status400}, true, nil},
	{"9110-8.6/ContentLengthValid", postReq("/p", "abc", "Content-Length: 3\r\n") + getReq("/next"), []int{status200, status200}, false,
		[]served{{"/p", false}, {"/next", false}}},

	{"9112-7.1/ChunkedValid", postReq("/p", "5;a=b;c=\"d\"\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n", teChunked) + getReq("/next"), []int{status200, status200}, false,
		[]served{{"/p", false}, {"/next", false}}},
	{"9112-7.1/ChunkSizeInvalidCharacter", postReq("/p", "5x\r\nhello\r\n0\r\n\r\n"+smuggledReq, teChunked), []int{status400}, true, []served{{"/p", true}}},
	{"9112-7.1/ChunkSizeNotHex", postReq("/p", "-5\r\nhello\r\n0\r\n\r\n"+smuggledReq, teChunked), []int{status400}, true, []served{{"/p", true}}},
	{"9112-7.1/ChunkSizeEmpty", postReq("/p", "\r\nhello\r\n0\r\n\r\n"+smuggledReq, teChunked), []int{status400}, true, []served{{"/p", true}}},
	{"9112-7.1/ChunkSizeOverflow", postReq("/p", "10000000000000005\r\nhello\r\n0\r\n\r\n"+smuggledReq, teChunked), []int{status400}, true, []served{{"/p", true}}},
	{"9112-7.1/ChunkSizeTrailingWhitespace", postReq("/p", "5 \r\nhello\r\n0\r\n\r\n"+smuggledReq, teChunked), []int{status400}, true, []served{{"/p", true}}},
	{"9112-7.1/BareLFAfterChunkSize", postReq("/p", "5\nhello\r\n0\r\n\r\n"+smuggledReq, teChunked), []int{status400}, true, []served{{"/p", true}}},
	{"9112-7.1/BareLFAfterChunkData", postReq("/p", "5\r\nhello\n0\r\n\r\n"+smuggledReq, teChunked), []int{status400}, true, []served{{"/p", true}}},
	{"9112-7.1/NoCRLFAfterChunkData", postReq("/p", "5\r\nhelloXY0\r\n\r\n"+smuggledReq, teChunked), []int{status400}, true, []served{{"/p", true}}},
	{"9112-7.1.1/ExtensionWithoutName", postReq("/p", "5;\r\nhello\r\n0\r\n\r\n"+smuggledReq, teChunked), []int{status400}, true, []served{{"/p", true}}},
	{"9112-7.1.1/ExtensionWithoutValue", postReq("/p", "5;a=\r\nhello\r\n0\r\n\r\n"+smuggledReq, teChunked), []int{status400}, true, []served{{"/p", true}}},
	{"9112-7.1.1/ExtensionUnclosedQuote", postReq("/p", "5;a=\"x\r\nhello\r\n0\r\n\r\n"+smuggledReq, teChunked), []int{status400}, true, []served{{"/p", true}}},
	{"9112-7.1.1/ExtensionNotToken", postReq("/p", "5;a b\r\nhello\r\n0\r\n\r\n"+smuggledReq, teChunked), []int{status400}, true, []served{{"/p", true}}},
	{"9112-7.1.2/TrailerObsFold", postReq("/p", "0\r\nX-Sum: 1\r\n 2\r\n\r\n"+smuggledReq, teChunked), []int{status400}, true, []served{{"/p", true}}},
	{"9112-7.1.2/TrailerBareLF", postReq("/p", "0\r\nX-Sum: 1\n\r\n"+smuggledReq, teChunked), []int{status400}, true, []served{{"/p", true}}},

	{"9112-5.2/ObsFold", getReq("/", "X-A: 1\r\n 2\r\n"), []int{status400}, true, nil},
	{"9112-2.2/WhitespaceBeforeFirstField", "GET / HTTP/1.1\r\n " + testHost + "\r\n", []int{status400}, true, nil},
	{"9112-2.2/BareLFInRequestLine", "GET / HTTP/1.1\n" + testHost + "\r\n", []int{status400}, true, nil},
	{"9112-2.2/BareLFInField", "GET / HTTP/1.1\r\nHost: example.test\n\r\n", []int{status400}, true, nil},
	{"9112-2.2/BareLFAsFinalLine", "GET / HTTP/1.1\r\n" + testHost + "\n", []int{status400}, true, nil},
	{"9112-2.2/BareLFEverywhere", "GET / HTTP/1.1\nHost: example.test\n\n", []int{status400}, true, nil},
	{"9112-5.1/SpaceBeforeColon", "GET / HTTP/1.1\r\nHost : example.test\r\n\r\n", []int{status400}, true, nil},
	{"9112-5.1/TabBeforeColon", getReq("/", "X-A\t: 1\r\n"), []int{status400}, true, nil},
	{"9110-5.1/FieldNameNotToken", getReq("/", "X[A]: 1\r\n"), []int{status400}, true, nil},
	{"9112-5/FieldWithoutColon", getReq("/", "X-A\r\n"), []int{status400}, true, nil},
	{"9110-5.5/NULInFieldValue", getReq("/", "X-A: a\x00b\r\n"), []int{status400}, true, nil},
	{"9110-5.5/CRInFieldValue", getReq("/", "X-A: a\rb\r\n"), []int{status400}, true, nil},
	{"9110-5.5/ESCInFieldValue", getReq("/", "X-A: a\x1bb\r\n"), []int{status400}, true, nil},
	{"9110-5.5/DELInFieldValue", getReq("/", "X-A: a\x7fb\r\n"), []int{status400}, true, nil},
	{"9110-5.5/ObsTextInFieldValue", getReq("/", "X-A: caf\xc3\xa9\r\n"), []int{status200}, false, []served{{"/", false}}},

	{"9112-3.2/ControlInTarget", getReq("/a\x01b"), []int{status400}, true, nil},
	{"9112-3.2/DELInTarget", getReq("/a\x7fb"), []int{status400}, true, nil},
	{"9112-3.2/NonASCIIInTarget", getReq("/caf\xc3\xa9"), []int{status400}, true, nil},
	{"9112-3.2/FragmentInTarget", getReq("/a#b"), []int{status400}, true, nil},
	{"9112-3.2/TabInTarget", getReq("/a\tb"), []int{status400}, true, nil},
	{"9112-3/MethodNotToken", "GE(T / HTTP/1.1\r\n" + testHost + "\r\n", []int{status400}, true, nil},
	{"9112-3/MethodWithNUL", "G\x00T / HTTP/1.1\r\n" + testHost + "\r\n", []int{status400}, true, nil},
	{"9112-3/TwoSpaces", "GET  / HTTP/1.1\r\n" + testHost + "\r\n", []int{status400}, true, nil},
	{"9110-9.3.6/Connect", "CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n", []int{status400}, true, nil},
	{"9112-3.2.4/AsteriskForOptions", "OPTIONS * HTTP/1.1\r\n" + testHost + "\r\n" + getReq("/next"), []int{status200, status200}, false,
		[]served{{"/next", false}}}, // the engine answers OPTIONS * itself, as net/http does
	{"9112-3.2.4/AsteriskNotForGet", "GET * HTTP/1.1\r\n" + testHost + "\r\n", []int{status400}, true, nil},
	{"9112-3.2.2/AbsoluteForm", "GET http://example.test/a?b HTTP/1.1\r\n" + testHost + "\r\n", []int{status200}, false, []served{{"/a", false}}},
	{"9112-2.3/HTTP2", "GET / HTTP/2.0\r\n" + testHost + "\r\n", []int{http.StatusHTTPVersionNotSupported}, true, nil},
	{"9112-2.3/HTTP09Version", "GET / HTTP/0.9\r\n\r\n", []int{http.StatusHTTPVersionNotSupported}, true, nil},
	{"9112-2.3/HTTP09Line", "GET /\r\n\r\n", []int{status400}, true, nil},
	{"9112-2.3/LowerCaseVersion", "GET / http/1.1\r\n" + testHost + "\r\n", []int{status400}, true, nil},
	{"9112-2.3/HTTP10", "GET / HTTP/1.0\r\n\r\n" + smuggledReq, []int{status200}, true, []served{{"/", false}}},
	{"9112-9.3/HTTP10KeepAlive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + getReq("/next"), []int{status200, status200}, false,
		[]served{{"/", false}, {"/next", false}}},
	{"9112-9.6/ConnectionClose", getReq("/", "Connection: close\r\n") + smuggledReq, []int{status200}, true, []served{{"/", false}}},

	{"9112-3.2/MissingHost", "GET / HTTP/1.1\r\n\r\n", []int{status400}, true, nil},
	{"9112-3.2/MissingHostAbsoluteForm", "GET http://example.test/ HTTP/1.1\r\n\r\n", []int{status400}, true, nil},
	{"9112-3.2/TwoHosts", getReq("/", testHost), []int{status400}, true, nil},
	{"9112-3.2/InvalidHost", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", []int{status400}, true, nil},
	{"9112-3.2/HTTP10WithoutHost", "GET / HTTP/1.0\r\n\r\n", []int{status200}, true, []served{{"/", false}}},
	{"9110-10.1.1/UnknownExpectation", getReq("/", "Expect: teapot\r\n"), []int{http.StatusExpectationFailed}, true, nil},

	{"9112-6.3/UnreadBodyIsNotARequest", postReq("/unread", smuggledReq, "Content-Length: "+strconv.Itoa(len(smuggledReq))+"\r\n"),
		[]int{status200}, true, []served{{"/unread", false}}},
	{"9112-6.3/UnreadChunkedBodyIsNotARequest", postReq("/unread", strconv.FormatInt(int64(len(smuggledReq)), 16)+"\r\n"+smuggledReq+"\r\n0\r\n\r\n", teChunked),
		[]int{status200}, true, []served{{"/unread", false}}},

	{"6585-5/TooManyFields", getReq("/", strings.Repeat("X-A: 1\r\n", fieldLimit)), []int{http.StatusRequestHeaderFieldsTooLarge}, true, nil},
	{"6585-5/AsManyFieldsAsAllowed", getReq("/", strings.Repeat("X-A: 1\r\n", fieldLimit-1)), []int{status200}, false, []served{{"/", false}}},
	{"6585-5/HeadOverMaxHeaderBytes", getReq("/", "X-Big: "+strings.Repeat("a", strictMB)+"\r\n"), []int{http.StatusRequestHeaderFieldsTooLarge}, true, nil},
}

// TestStrict runs each requirement against its own server over loopback:
// every answer must come within 2 s (a refusal is answered at once, never
// after waiting for bytes that will not come).
func TestStrict(t *testing.T) {
	for _, tc := range strictCases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			addr := startServer(t, &Server{Handler: rec, MaxHeaderBytes: strictMB, MaxHeaderCount: fieldLimit})
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(2 * time.Second))
			if _, err := io.WriteString(c, tc.send); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			for i, want := range tc.status {
				res, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("answer %d: %v (want %d)", i+1, err, want)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != want {
					t.Errorf("answer %d: status %d, want %d", i+1, res.StatusCode, want)
				}
			}
			if tc.closed {
				if extra, err := br.ReadByte(); err == nil {
					t.Errorf("the connection goes on after the answers (next byte %q), want it closed", extra)
				} else if errors.Is(err, os.ErrDeadlineExceeded) {
					t.Errorf("the connection stays open after the answers, want it closed")
				}
			}
			if got := rec.get(); !slices.Equal(got, tc.served) {
				t.Errorf("the handler saw %v, want %v", got, tc.served)
			}
		})
	}
}

// recorder is a handler that notes the requests it sees; it reads each
// body whole (but under /unread) and answers 400 when that fails.
type recorder struct {
	mu   sync.Mutex
	seen []served
}

func (h *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	var err error
	if !strings.HasPrefix(path, "/unread") {
		_, err = io.Copy(io.Discard, r.Body)
	}
	h.mu.Lock()
	h.seen = append(h.seen, served{path, err != nil})
	h.mu.Unlock()
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	io.WriteString(w, "ok\n")
}

// get returns what the handler saw, once the connection has ended or
// every answer was read (a handler returns before its answer ends).
func (h *recorder) get() []served {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.seen)
}

// startServer serves s on a loopback listener until tb ends, and returns
// its address.
func startServer(tb testing.TB, s *Server) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(ln)
	}()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if s.Shutdown(ctx) != nil {
			s.Close()
		}
		<-done
	})
	return ln.Addr().String()
}

// checkLeaks fails tb if, once it ends, a goroutine running the engine's
// code outlives it by more than 5 s. (testkit.RunCheckingLeaks cannot
// be used: testkit imports server, which imports this package.)
func checkLeaks(tb testing.TB) {
	tb.Cleanup(func() {
		if leaked := engineGoroutines(5 * time.Second); leaked != "" {
			tb.Errorf("goroutines leaked:\n\n%s", leaked)
		}
	})
}

// engineGoroutines waits up to timeout for every goroutine with a frame
// in this package, but the caller's, to end, and returns the stacks of
// those that did not.
func engineGoroutines(timeout time.Duration) string {
	deadline := time.Now().Add(timeout)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var leaked []string
		for i, g := range strings.Split(string(buf), "\n\n") {
			if i > 0 && strings.Contains(g, "gatehouse/server/h1.") { // the first is the caller's
				leaked = append(leaked, g)
			}
		}
		if len(leaked) == 0 || time.Now().After(deadline) {
			return strings.Join(leaked, "\n\n")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
