package funnel

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
)

// Refusal is a request refused before any handler saw it: by the HTTP/1.1
// parser (malformed, header too large, an unsupported transfer coding),
// or a connection that closed with a request half sent.
type Refusal struct {
	Listener string
	// Peer is the client's address as the socket saw it.
	Peer   string
	Proto  string
	Status int
	// Reason is what the parser found wrong, for the log.
	Reason string
	// Answered is false when the client got no response (it went away or
	// timed out mid-request).
	Answered bool
}

// ForRefusal is the class a parser refusal of status is answered with.
func ForRefusal(status int) *Class {
	if c := ForStatus(status); c != nil {
		return c
	}
	return &Class{Status: status, Message: strings.ToLower(http.StatusText(status))}
}

// RawHTTP1 is the funnel's text answer of class c as a whole HTTP/1.1
// response that closes the connection, for the engine to write on a
// connection no handler owns.
func RawHTTP1(c *Class) []byte {
	body := Text(c)
	return []byte("HTTP/1.1 " + strconv.Itoa(c.Status) + " " + http.StatusText(c.Status) + "\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"X-Content-Type-Options: nosniff\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n" +
		"Connection: close\r\n\r\n" + body)
}

// Refused logs a refusal like any failed request.
func (f *Funnel) Refused(r Refusal) {
	if f.Log == nil {
		return
	}
	f.Log.LogAttrs(context.Background(), level(r.Status), "request refused",
		slog.Int("status", r.Status),
		slog.String("listener", r.Listener),
		slog.String("peer", r.Peer),
		slog.String("proto", r.Proto),
		slog.Bool("answered", r.Answered),
		slog.String("error", r.Reason),
	)
}
