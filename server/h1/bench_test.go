package h1

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// browserHead is a typical request head: a browser's GET with cookies.
const browserHead = "GET /api/orders?page=2&sort=desc HTTP/1.1\r\n" +
	"Host: shop.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36\r\n" +
	"Accept: application/json, text/plain, */*\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Referer: https://shop.example.com/orders\r\n" +
	"Cookie: session=0123456789abcdef; theme=dark\r\n" +
	"Sec-Fetch-Site: same-origin\r\n" +
	"Sec-Fetch-Mode: cors\r\n" +
	"X-Request-Id: 7f3c2a\r\n" +
	"Connection: keep-alive\r\n\r\n"

// BenchmarkParseHead: finding and parsing a head, which must allocate
// nothing.
func BenchmarkParseHead(b *testing.B) {
	buf := []byte(browserHead)
	h := head{fields: make([]field, 0, 100)}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		size, _, err := scanHead(buf, 0)
		if err != nil || size != len(buf) {
			b.Fatal(size, err)
		}
		if err := parseHead(buf, size, &h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewRequest: the head parsed and made into the *http.Request a
// handler sees: one string and one header map; the URL and the values
// are in the request's exchange (mem here), as in the engine.
func BenchmarkNewRequest(b *testing.B) {
	src := []byte(browserHead)
	buf := make([]byte, len(src))
	h := head{fields: make([]field, 0, 100)}
	mem := new(reqMem)
	b.ReportAllocs()
	for b.Loop() {
		*mem = reqMem{}
		copy(buf, src)
		size, _, _ := scanHead(buf, 0)
		if err := parseHead(buf, size, &h); err != nil {
			b.Fatal(err)
		}
		var r http.Request
		var m message
		if err := newRequest(buf, &h, &r, &m, mem); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServe: one request and its 1 KiB answer over a loopback
// keep-alive connection, by this engine and by net/http's server, with
// the same handler and client, so the two are compared in one run.
func BenchmarkServe(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 1024)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	})
	b.Run("gatehouse", func(b *testing.B) {
		benchServe(b, func(ln net.Listener) func() {
			s := &Server{Handler: h}
			go s.Serve(ln)
			return func() { s.Close() }
		})
	})
	b.Run("stdlib", func(b *testing.B) {
		benchServe(b, func(ln net.Listener) func() {
			s := &http.Server{Handler: h}
			go s.Serve(ln)
			return func() { s.Close() }
		})
	})
}

func benchServe(b *testing.B, start func(net.Listener) func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	stop := start(ln)
	defer stop()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	br := bufio.NewReader(c)
	req := []byte(browserHead)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, res.Body); err != nil || res.StatusCode != 200 {
			b.Fatal(res.StatusCode, err)
		}
		res.Body.Close()
	}
}
