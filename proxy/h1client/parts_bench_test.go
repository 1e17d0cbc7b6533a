package h1client

import (
	"bufio"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// nginxHead is the head nginx sends with a static file.
const nginxHead = "HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n" +
	"Content-Type: application/octet-stream\r\nContent-Length: 1024\r\n" +
	"Last-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\nConnection: keep-alive\r\n" +
	"ETag: \"65920080-400\"\r\nAccept-Ranges: bytes\r\n\r\n"

// BenchmarkResponseHead is the CPU of one response head without the
// network: reading and parsing it, and copying its fields into the
// client's header.
func BenchmarkResponseHead(b *testing.B) {
	r := strings.NewReader(nginxHead)
	pc := &pconn{br: bufio.NewReaderSize(r, bufSize)}
	dst := http.Header{}
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(nginxHead)
		pc.br.Reset(r)
		pc.br.Peek(1) // as awaitAnswer leaves it: the head in the buffer
		h, ok, err := pc.takeHead(false)
		if !ok || err != nil {
			b.Fatal(err)
		}
		clear(dst)
		copyFields(dst, h.fields)
	}
}

// BenchmarkRequestHead is the CPU of building one request head as the
// proxy forwards a GET, without the network.
func BenchmarkRequestHead(b *testing.B) {
	pc := &pconn{}
	out := &http.Request{Method: "GET", URL: &url.URL{Opaque: "/1k.bin"}, Host: "gatehouse.test", Header: http.Header{
		"User-Agent": {"wrk"}, "Accept": {"*/*"}, "X-Forwarded-For": {"127.0.0.1"},
		"X-Forwarded-Proto": {"http"}, "X-Forwarded-Host": {"gatehouse.test"}}}
	ex := &exchange{call: call{out: out}, pc: pc}
	buf := make([]byte, 0, bufSize)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = ex.appendHead(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}
