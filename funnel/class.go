package funnel

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// A Class is a kind of failure: the status it is answered with and the
// text the client sees. Lower layers wrap one in their error
// (fmt.Errorf("path %q: %w", p, funnel.ErrBadRequest)) so that the client
// gets the class's short message while the log gets the whole chain. Any
// package may declare its own classes; those below are the common ones.
type Class struct {
	Status int
	// Message is what the client is told; never internals.
	Message string
	// Reason is the log's text for the class itself; "" means Message.
	Reason string
}

func (c *Class) Error() string {
	if c.Reason != "" {
		return c.Reason
	}
	return c.Message
}

// StatusClientClosed is logged (never sent) when the client went away
// before the answer was complete, as nginx does.
const StatusClientClosed = 499

// The common classes, one per status the funnel answers with.
var (
	ErrBadRequest       = &Class{Status: http.StatusBadRequest, Message: "bad request"}
	ErrUnauthorized     = &Class{Status: http.StatusUnauthorized, Message: "unauthorized: authentication required"}
	ErrForbidden        = &Class{Status: http.StatusForbidden, Message: "forbidden"}
	ErrNotFound         = &Class{Status: http.StatusNotFound, Message: "not found"}
	ErrNoRoute          = &Class{Status: http.StatusNotFound, Message: "no route for this request", Reason: "no route matches the request"}
	ErrMethodNotAllowed = &Class{Status: http.StatusMethodNotAllowed, Message: "method not allowed"}
	ErrRequestTimeout   = &Class{Status: http.StatusRequestTimeout, Message: "request timeout: the request body stopped arriving", Reason: "the client stopped sending the request body"}
	ErrBodyTooLarge     = &Class{Status: http.StatusRequestEntityTooLarge, Message: "request body too large"}
	ErrURITooLong       = &Class{Status: http.StatusRequestURITooLong, Message: "request URI too long"}
	ErrTooManyRequests  = &Class{Status: http.StatusTooManyRequests, Message: "too many requests"}
	ErrHeaderTooLarge   = &Class{Status: http.StatusRequestHeaderFieldsTooLarge, Message: "request header fields too large"}
	ErrClientClosed     = &Class{Status: StatusClientClosed, Message: "client closed the request"}
	ErrInternal         = &Class{Status: http.StatusInternalServerError, Message: "internal server error"}
	ErrBadGateway       = &Class{Status: http.StatusBadGateway, Message: "bad gateway: the upstream could not be reached or sent a broken response"}
	ErrUnavailable      = &Class{Status: http.StatusServiceUnavailable, Message: "service unavailable: no healthy upstream target"}
	ErrGatewayTimeout   = &Class{Status: http.StatusGatewayTimeout, Message: "gateway timeout: the upstream did not answer in time"}
)

// ClientCloser is implemented by errors that can say the client went away
// (the forwarder's errors do): such a failure is the client's, logged 499.
type ClientCloser interface {
	ClientClosed() bool
}

// Committer is implemented by errors that can say the response header had
// already been sent when the failure happened: the response can then only
// be cut short.
type Committer interface {
	ResponseStarted() bool
}

// Classify returns the class err is answered with: the client going away
// (499), then the first Answer in err's chain (the class of its status),
// then the first Class in err's chain, then what standard errors
// mean (a body over http.MaxBytesReader's limit is 413, a timeout 504, a
// canceled context 499), and otherwise 502: whatever else went wrong went
// wrong upstream.
func Classify(err error) *Class {
	var cc ClientCloser
	var a *Answer
	var c *Class
	var mb *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &cc) && cc.ClientClosed():
		return ErrClientClosed
	case errors.As(err, &a) && a.valid():
		return a.class()
	case errors.As(err, &c):
		return c
	case errors.As(err, &mb):
		return ErrBodyTooLarge
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return ErrGatewayTimeout
	case errors.Is(err, context.Canceled):
		return ErrClientClosed
	}
	return ErrBadGateway
}

// Status maps an error to the status code the client gets.
func Status(err error) int { return Classify(err).Status }

// ForStatus returns the common class of a status, nil when there is none.
func ForStatus(status int) *Class {
	for _, c := range [...]*Class{ErrBadRequest, ErrUnauthorized, ErrForbidden, ErrNotFound,
		ErrMethodNotAllowed, ErrRequestTimeout, ErrBodyTooLarge, ErrURITooLong,
		ErrTooManyRequests, ErrHeaderTooLarge, ErrClientClosed, ErrInternal,
		ErrBadGateway, ErrUnavailable, ErrGatewayTimeout} {
		if c.Status == status {
			return c
		}
	}
	return nil
}

// Answer is a failure that brings the whole response the client gets:
// the status, header fields and body another service chose. Forward
// auth uses it to pass on its authentication service's denial (a 401
// with its challenge, a 302 to a login page) as the service sent it.
//
// Fail finds an Answer anywhere in err's chain (the first, with
// errors.As), logs it like every failure with its Status, and writes it
// instead of its own text or JSON answer. The funnel's header hygiene
// holds: headers an earlier attempt set are dropped (the request ID
// kept, and not replaced by one in Header), headers attached with
// WithHeader are added to Header's, hop-by-hop fields (and those
// Connection names) and Content-Length in Header are never written;
// Content-Length is Body's, and a response without Content-Type gets
// none (no sniffing). A gRPC request gets the gRPC status of Status
// instead, as for every failure, and none of Header: a gRPC client
// cannot read an HTTP body. An Answer whose
// Status is outside 200-599, or is 499 (the funnel's mark of a client
// gone), is ignored.
//
// Header and Body are read, never modified.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
	// Err says why, for the log; errors.Is and errors.As see it
	// through the Answer. Nil means "answered <status>".
	Err error
}

func (a *Answer) Error() string {
	if a.Err != nil {
		return a.Err.Error()
	}
	return "answered " + strconv.Itoa(a.Status)
}

func (a *Answer) Unwrap() error { return a.Err }

func (a *Answer) valid() bool {
	return a.Status >= 200 && a.Status <= 599 && a.Status != StatusClientClosed
}

// class is the Class of a's status: the common one, or one named by the
// status text (for the log, and a gRPC client's message).
func (a *Answer) class() *Class {
	if c := ForStatus(a.Status); c != nil {
		return c
	}
	text := strings.ToLower(http.StatusText(a.Status))
	if text == "" {
		text = "status " + strconv.Itoa(a.Status)
	}
	return &Class{Status: a.Status, Message: text}
}

// answerOf returns the Answer that Classify found in err as c, or nil.
func answerOf(err error, c *Class) *Answer {
	var a *Answer
	if !errors.As(err, &a) || !a.valid() || a.Status != c.Status {
		return nil
	}
	return a
}

// committed reports whether err says the response was already under way.
func committed(err error) bool {
	var c Committer
	return errors.As(err, &c) && c.ResponseStarted()
}

// WithHeader returns err carrying a header its answer must have: Allow on
// a 405, WWW-Authenticate on a 401, Retry-After on a 429. Several may be
// stacked; each is kept on the error response.
func WithHeader(err error, name, value string) error {
	return &headerError{err: err, name: http.CanonicalHeaderKey(name), value: value}
}

type headerError struct {
	err         error
	name, value string
}

func (e *headerError) Error() string { return e.err.Error() }
func (e *headerError) Unwrap() error { return e.err }

// headersOf calls set for each header WithHeader attached to err, in
// the order they were attached (several WWW-Authenticate challenges keep
// the order of the methods that offer them).
func headersOf(err error, set func(name, value string)) {
	var hs []*headerError // outermost first: the last attached
	for e := err; e != nil; {
		if h, ok := e.(*headerError); ok {
			hs = append(hs, h)
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			break
		}
		e = u.Unwrap()
	}
	for i := len(hs) - 1; i >= 0; i-- { // in the order attached
		set(hs[i].name, hs[i].value)
	}
}
