package h1client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/internal/copybuf"
	"github.com/gatehouse-proxy/gatehouse/internal/hop"
	"github.com/gatehouse-proxy/gatehouse/middleware/wrap"
	"github.com/gatehouse-proxy/gatehouse/proxy"
	"github.com/gatehouse-proxy/gatehouse/upstream"
)

// call is one request to forward, as Forward got it.
type call struct {
	f    *Forwarder
	w    http.ResponseWriter
	out  *http.Request
	t    *upstream.Target
	edit proxy.ResponseEditor
}

// exchange is one attempt: a request written on a connection and its
// response relayed. It lives in its pconn (pconn.ex), which carries one
// exchange at a time, so an attempt allocates none.
type exchange struct {
	call

	pc     *pconn
	reused bool
	start  time.Time // when the request began on pc
	// stale is set when a reused connection failed before any byte of a
	// response arrived: the target had closed it.
	stale bool
	// bodyTouched is set once any of the request body was read.
	bodyTouched bool
	// stop ends the watch for the client going away (false if it
	// fired); nil while there is no watch. See watch.
	stop func() bool
	// headMu orders the body sender's setting of the response head's
	// deadline against the reader's taking the head: once headTaken, the
	// reader owns the read deadline (the body's), and a sender finishing
	// late must not put the head's back.
	headMu    sync.Mutex
	headTaken bool
}

// senderDone is called by a body's sender once the body is out; tests
// make it slow, as a sender scheduled late is.
var senderDone = func() {}

// tookHead records that the response head was read (or its reading
// ended): from now on the body sender sets no read deadline.
func (ex *exchange) tookHead() {
	ex.headMu.Lock()
	ex.headTaken = true
	ex.headMu.Unlock()
}

// watch starts ending blocked reads and writes on the target's
// connection when the client goes away. A request the target answers at
// once never needs it, so it starts only when waiting begins: for a
// request with a body, for the head of a slow answer, for a stream.
func (ex *exchange) watch() {
	if ex.stop == nil {
		ex.stop = context.AfterFunc(ex.out.Context(), ex.pc.abort)
	}
}

// unwatch ends the watch; false if the client went away meanwhile.
func (ex *exchange) unwatch() bool {
	if ex.stop == nil {
		return ex.out.Context().Err() == nil
	}
	return ex.stop()
}

// quickAnswer is how long the head of an answer may take before the
// client's leaving is watched for.
const quickAnswer = 5 * time.Millisecond

// mayRepeat reports whether a stale attempt may be sent again: nothing
// was answered, and the request is idempotent with no body read.
func (ex *exchange) mayRepeat() bool {
	return !ex.bodyTouched && (ex.out.Body == nil || ex.out.ContentLength == 0) && proxy.Idempotent(ex.out)
}

func (c *call) fail(phase proxy.Phase, err error) *proxy.Error {
	return &proxy.Error{Phase: phase, Target: c.t.Name, Err: err}
}

// attempt makes one exchange for c on a connection from p; fresh takes
// a new connection. again reports that it failed on a reused connection
// the target had closed, and may be repeated (mayRepeat).
func (c *call) attempt(p *hostPool, fresh bool) (again bool, err error) {
	ctx := c.out.Context()
	now := time.Now()
	pc, reused, err := p.get(ctx, fresh, &now)
	if err != nil {
		return false, c.connectError(ctx, err)
	}
	ex := &pc.ex
	*ex = exchange{call: *c, pc: pc, reused: reused, start: now}
	// A client that goes away ends the exchange: blocked reads and
	// writes on the target's connection return at once.
	if ex.out.Body != nil {
		ex.watch()
	}
	keep, err := ex.roundTrip()
	keep = ex.unwatch() && keep && err == nil
	if err != nil {
		err = ex.classify(ctx, err)
	}
	again = ex.stale && ex.mayRepeat()
	owned := ex.pc != nil // else an upgrade handed the connection over
	// Before pc can serve another request: nothing of this one stays.
	*ex = exchange{}
	if keep {
		p.put(pc)
	} else if owned {
		pc.close()
	}
	return again, err
}

func (c *call) connectError(ctx context.Context, err error) error {
	e := c.fail(proxy.PhaseConnect, err)
	if ctx.Err() != nil {
		e.ClientGone = true
	}
	if errors.Is(err, proxy.ErrConnLimit) {
		e.Err = err
	}
	return e
}

// classify turns a failed exchange into the proxy's error. It is an
// *proxy.Error already when it happened relaying the response.
func (ex *exchange) classify(ctx context.Context, err error) error {
	var pe *proxy.Error
	if errors.As(err, &pe) {
		if ctx.Err() != nil {
			pe.ClientGone = true
		}
		return pe
	}
	e := ex.fail(proxy.PhaseRequest, err)
	if ctx.Err() != nil {
		e.ClientGone = true
	}
	return e
}

// roundTrip writes the request and relays the response. keep says the
// connection may carry another request: both ended cleanly.
func (ex *exchange) roundTrip() (keep bool, err error) {
	pc, out := ex.pc, ex.out
	expect := out.Body != nil && proxy.HasToken(out.Header["Expect"], "100-continue")
	if out.Body == nil {
		pc.startPlain(ex.start)
	} else {
		pc.dl.known = false // the body's sender sets deadlines too
	}
	if err := ex.writeHead(); err != nil {
		ex.stale = ex.reused && !errors.Is(err, errBadOutbound)
		return false, err
	}
	var bodyDone chan error
	if out.Body != nil && !expect {
		// The wait for the head starts when the body is out (the sender
		// sets it), as response_header_timeout says.
		pc.setReadDeadline(time.Time{})
		bodyDone = ex.sendBody()
	}
	isHead := out.Method == http.MethodHead
	h, err := ex.readResponseHead(isHead, &bodyDone, expect)
	if bodyDone != nil {
		ex.tookHead()
	}
	if err != nil {
		return false, ex.bodyFirst(bodyDone, err)
	}
	if h.status == http.StatusSwitchingProtocols && bodyDone != nil {
		// The proxy never upgrades a request with a body; a target that
		// switches anyway is not followed.
		ex.finishBody(bodyDone, false, false)
		return false, errors.New("the target switched protocols on a request with a body")
	}
	if h.status == http.StatusSwitchingProtocols {
		ex.unwatch() // the tunnel outlives the request's watch
		return false, ex.upgrade(&h)
	}
	err = ex.relay(&h)
	bodyOK := ex.finishBody(bodyDone, err == nil && h.keepAlive, err == nil)
	return err == nil && h.keepAlive && bodyOK && pc.body.done(), err
}

// bodyFirst reports a failed response head, unless sending the body
// failed first for a reason of the client's: that is the error then.
func (ex *exchange) bodyFirst(bodyDone chan error, err error) error {
	if bodyDone != nil {
		ex.pc.abort()
		if berr := <-bodyDone; berr != nil && (!errors.Is(berr, errBodyWrite) || isTimeout(berr)) {
			return berr // the client's body failed, or the target stopped taking it
		}
	}
	return err
}

// senderGrace is how long a response that came before its request's
// body was all sent waits for the sender before giving up the
// connection: usually the last bytes are just leaving.
const senderGrace = 50 * time.Millisecond

// finishBody waits for the request body's sender and reports whether it
// sent the whole body. A response that ended before its request (the
// target answered early, or the answer is not reusable) stops the sender;
// an answer relayed (answered) is flushed to the client first, since the
// sender may be blocked reading a slow client and the handler returns
// only after it.
func (ex *exchange) finishBody(bodyDone chan error, reusable, answered bool) bool {
	if bodyDone == nil {
		return true
	}
	select {
	case err := <-bodyDone:
		return err == nil
	default:
	}
	if answered {
		_ = wrap.Flush(ex.w)
	}
	if reusable {
		t := time.NewTimer(senderGrace)
		defer t.Stop()
		select {
		case err := <-bodyDone:
			return err == nil
		case <-t.C:
		}
	}
	ex.pc.abort()
	<-bodyDone
	return false
}

// writeHead writes the request line and header in one write, from a
// buffer taken for the moment: a pooled connection keeps no write
// buffer of its own. Nothing is written when the head cannot be sent.
func (ex *exchange) writeHead() error {
	pc := ex.pc
	if !pc.dl.known { // else startPlain has seen to it
		pc.setWriteDeadline(after(time.Now(), pc.pool.opts.SendTimeout))
	}
	bp := heads.Get().(*[]byte)
	b, err := ex.appendHead((*bp)[:0])
	if err == nil {
		_, err = pc.wire.Write(b)
	}
	if cap(b) <= 64<<10 { // a rare huge head does not stay pinned
		*bp = b
	}
	heads.Put(bp)
	return err
}

// heads are the buffers request heads are written from.
var heads = sync.Pool{New: func() any { b := make([]byte, 0, bufSize); return &b }}

// appendHead appends the request line and header to b.
func (ex *exchange) appendHead(b []byte) ([]byte, error) {
	out := ex.out
	b = append(b, out.Method...)
	b = append(b, ' ')
	b = appendTarget(b, out)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	host := out.Host
	if host == "" {
		host = out.URL.Host
	}
	if !validValue(host) {
		return b, fmt.Errorf("%w: Host %q", errBadOutbound, host)
	}
	b = append(b, host...)
	b = append(b, "\r\n"...)
	for k, vv := range out.Header {
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
			continue
		case "User-Agent":
			if len(vv) == 1 && vv[0] == "" {
				continue // the proxy's way of saying: send none
			}
		}
		if !validName(k) {
			return b, fmt.Errorf("%w: header name %q", errBadOutbound, k)
		}
		for _, v := range vv {
			if !validValue(v) {
				return b, fmt.Errorf("%w: header %s", errBadOutbound, k)
			}
			b = append(b, k...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	switch {
	case out.Body == nil:
		if out.Method != http.MethodGet && out.Method != http.MethodHead {
			b = append(b, "Content-Length: 0\r\n"...) // as many servers expect for these
		}
	case out.ContentLength > 0:
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, out.ContentLength, 10)
		b = append(b, "\r\n"...)
	default:
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
		if len(out.Trailer) > 0 {
			b = append(b, "Trailer: "...)
			first := true
			for k := range out.Trailer {
				if !validName(k) {
					return b, fmt.Errorf("%w: trailer name %q", errBadOutbound, k)
				}
				if !first {
					b = append(b, ", "...)
				}
				first = false
				b = append(b, k...)
			}
			b = append(b, "\r\n"...)
		}
	}
	return append(b, "\r\n"...), nil
}

// errBadOutbound is a header value Gatehouse would have to send that
// HTTP/1.1 cannot carry (a CR, LF or NUL).
var errBadOutbound = &funnel.Class{Status: http.StatusBadRequest, Message: funnel.ErrBadRequest.Message,
	Reason: "the request cannot be sent upstream: a header name is not a token, or a value holds a line break or NUL"}

func validValue(v string) bool {
	return strings.IndexByte(v, '\r') < 0 && strings.IndexByte(v, '\n') < 0 && strings.IndexByte(v, 0) < 0
}

// appendTarget appends the request target: the path as the proxy set
// it (URL.Opaque, escaped) or the escaped path, and the query.
func appendTarget(b []byte, out *http.Request) []byte {
	u := out.URL
	if u.Opaque != "" {
		b = append(b, u.Opaque...)
	} else if p := u.EscapedPath(); p != "" {
		b = append(b, p...)
	} else {
		b = append(b, '/')
	}
	if u.RawQuery != "" || u.ForceQuery {
		b = append(b, '?')
		b = append(b, u.RawQuery...)
	}
	return b
}

// sendBody starts sending the request body, concurrently with reading
// the response (the target may answer before it has read all of it, and
// full-duplex exchanges need both directions at once). The channel gets
// the outcome: nil, an error of the client's body, or errBodyWrite.
func (ex *exchange) sendBody() chan error {
	done := make(chan error, 1)
	pc := ex.pc // ex.pc may change while the body goes out (an upgrade)
	go func() {
		err := ex.writeBody(pc)
		switch {
		case err == nil:
			if d := pc.pool.opts.ResponseHeaderTimeout; d > 0 {
				senderDone()
				ex.headMu.Lock()
				if !ex.headTaken {
					pc.setReadDeadline(time.Now().Add(d))
				}
				ex.headMu.Unlock()
			}
		case !errors.Is(err, errBodyWrite), isTimeout(err):
			// The client's body failed (too large, stalled, cut off), or
			// the target stopped taking it for send_timeout: no answer
			// is worth waiting for.
			pc.abort()
		}
		done <- err
	}()
	return done
}

func (ex *exchange) writeBody(pc *pconn) error {
	out := ex.out
	src := &touchReader{r: out.Body, touched: &ex.bodyTouched}
	dst := &deadlineWriter{pc: pc}
	var err error
	if out.ContentLength > 0 {
		var n int64
		n, err = ex.spliceBody(pc, src)
		if err == nil && n < out.ContentLength {
			var m int64
			m, err = copybuf.Copy(dst, io.LimitReader(src, out.ContentLength-n))
			n += m
		}
		if err == nil && n < out.ContentLength {
			err = io.ErrUnexpectedEOF
			if src.err == nil {
				src.err = err
			}
		}
	} else {
		cw := httputil.NewChunkedWriter(dst)
		if _, err = copybuf.Copy(cw, src); err == nil {
			if err = cw.Close(); err == nil {
				err = writeTrailer(dst, out.Trailer)
			}
		}
	}
	if src.err != nil {
		return src.err // the client's body failed: the handler tells 408, 413, 400 or 499
	}
	switch {
	case isTimeout(err) && pc.aborted.Load():
		// The exchange ended the upload itself (the answer failed or came,
		// the client left): the past deadline of abort is no stall of the
		// target's, and must not read as a timeout (504).
		err = errUploadStopped
	case isTimeout(err):
		err = &stallError{what: "the target took no request body bytes", limit: pc.pool.opts.SendTimeout, err: err}
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errBodyWrite, err)
	}
	return nil
}

// errUploadStopped is a request body whose sending abort ended: the
// exchange was already over. Not a timeout, so the error that ended the
// exchange (the response's) is the one reported.
var errUploadStopped = errors.New("stopped: the exchange had ended")

// writeTrailer ends a chunked body with the request's trailers.
func writeTrailer(w io.Writer, tr http.Header) error {
	var b strings.Builder
	for k, vv := range tr {
		if !validName(k) {
			continue // never announced either (writeHead refused it)
		}
		for _, v := range vv {
			if validValue(v) {
				b.WriteString(k + ": " + v + "\r\n")
			}
		}
	}
	b.WriteString("\r\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// touchReader notes that the body was read from, and keeps the first
// read error (the client's).
type touchReader struct {
	r       io.Reader
	touched *bool
	err     error
}

func (t *touchReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		*t.touched = true
	}
	if err != nil && err != io.EOF && t.err == nil {
		t.err = err
	}
	return n, err
}

// deadlineWriter bounds each pause while the target takes the body.
type deadlineWriter struct{ pc *pconn }

func (d *deadlineWriter) Write(p []byte) (int, error) {
	if t := d.pc.pool.opts.SendTimeout; t > 0 {
		d.pc.setWriteDeadline(time.Now().Add(t))
	}
	return d.pc.c.Write(p)
}

// readResponseHead reads the final response head, skipping
// informational ones. With expect, the body is sent when the target says
// 100 Continue or has not answered within a second (as net/http does).
func (ex *exchange) readResponseHead(isHead bool, bodyDone *chan error, expect bool) (head, error) {
	pc := ex.pc
	d := pc.pool.opts.ResponseHeaderTimeout
	setHeadDeadline := func(extra time.Duration) {
		if d > 0 {
			pc.setReadDeadline(time.Now().Add(d + extra))
		} else {
			pc.setReadDeadline(time.Time{})
		}
	}
	if expect {
		pc.setReadDeadline(time.Now().Add(time.Second))
		if _, err := pc.br.Peek(1); err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				ex.stale = ex.reused
				return head{}, err
			}
		}
		if pc.br.Buffered() == 0 { // no answer within the second: send
			pc.setReadDeadline(time.Time{})
			*bodyDone = ex.sendBody()
			expect = false
		}
	}
	// plain: a bodiless exchange, whose deadlines are known (deadline.go).
	plain := pc.dl.known
	if ex.stop == nil && !expect && pc.br.Buffered() == 0 {
		if err := ex.awaitAnswer(plain); err != nil {
			return head{}, err
		}
	}
	if !plain && *bodyDone == nil {
		setHeadDeadline(0) // else the sender sets it once the body is out
	}
	informational := 0
	headSet := !plain // plain: the head's deadline, once the reading may wait
	for {
		h, ok, err := pc.takeHead(isHead)
		gotByte := true
		if !ok {
			// The head is not all here (or is malformed): reading it
			// may wait, so the client's leaving is watched for.
			ex.watch()
			if !headSet {
				now := time.Now()
				pc.wantRead(now, after(now, d))
				headSet = true
			}
			h, gotByte, err = pc.readHead(isHead)
		}
		if err != nil {
			if !gotByte && ex.reused && staleErr(err) {
				ex.stale = true
			}
			if isTimeout(err) && d > 0 {
				err = &stallError{what: "timeout awaiting response headers: the target answered nothing", limit: d, err: err}
			}
			return h, err
		}
		switch {
		case h.status >= 100 && h.status < 200 && h.status != http.StatusSwitchingProtocols:
			// Informational answers are not relayed; the final one may
			// take long, so the client's leaving is watched for now.
			if informational++; informational > maxInformational {
				return h, fmt.Errorf("%w: more than %d informational answers", errMalformed, maxInformational)
			}
			ex.watch()
			if h.status == http.StatusContinue && expect {
				pc.setReadDeadline(time.Time{})
				*bodyDone = ex.sendBody()
				expect = false
			}
			continue
		}
		if expect {
			// A final answer to an Expect: 100-continue request whose
			// body was never sent: the connection cannot be reused.
			h.keepAlive = false
		}
		return h, nil
	}
}

// awaitAnswer waits for the first byte of the answer to a request the
// client's leaving is not watched for yet, and starts the watch if it
// takes long: most answers start within a few milliseconds, and only a
// slower one is worth watching the client for. (A head that began at
// once but whose end has not come is watched for too: readResponseHead.)
func (ex *exchange) awaitAnswer(plain bool) error {
	pc := ex.pc
	if !plain {
		pc.setReadDeadline(time.Now().Add(quickAnswer))
	} // else startPlain has seen to it
	if _, err := pc.br.Peek(1); err != nil {
		if !isTimeout(err) {
			if ex.reused && staleErr(err) {
				ex.stale = true
			}
			return err
		}
		ex.watch()
	}
	return nil
}

// maxInformational bounds the 1xx answers before the final one, as
// net/http's Transport does.
const maxInformational = 5

// staleErr reports the errors of a connection the target had closed.
func staleErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// relay writes the response to the client: the header (hop-by-hop fields
// dropped, the edit applied), the body, the trailers.
func (ex *exchange) relay(h *head) error {
	pc, w := ex.pc, ex.w
	dst := w.Header()
	copyFields(dst, h.fields)
	if h.chunked && h.trailer != "" {
		proxy.AnnounceTrailers(dst, trailerKeys(h.trailer))
	}
	if ex.edit != nil {
		ex.edit.EditResponse(h.status, dst)
	}
	w.WriteHeader(h.status)
	if h.noBody {
		pc.body.eof = true
		return nil
	}
	pc.body.reset(h)
	pc.body.ex = ex
	stream := h.length < 0 || proxy.IsEventStream(dst)
	if stream {
		ex.watch() // a stream may be quiet for long: notice the client leave
		// Send the header now: a stream's first event may be far away.
		if err := wrap.Flush(w); err != nil {
			return &proxy.Error{Phase: proxy.PhaseResponse, Target: ex.t.Name, Err: err, ClientGone: true}
		}
	}
	if !stream && h.length >= spliceMin {
		spliced, err := ex.relaySpliced(w)
		if err != nil {
			err.Target = ex.t.Name
			return err
		}
		if spliced {
			return nil // a Content-Length body has no trailers
		}
	}
	if err := proxy.CopyBody(w, &pc.body, stream, nil); err != nil {
		err.Target = ex.t.Name
		return err
	}
	proxy.CopyTrailers(dst, pc.body.trailer)
	return nil
}

// copyFields copies a response's fields into the client's header,
// without the hop-by-hop ones (and those Connection names), replacing
// values already set, except the listener's own Alt-Svc, which a
// target's never joins. Values share one backing array. (parseHead caps
// the fields, so the search for a repeated name stays small.)
func copyFields(dst http.Header, fields []field) {
	var conn []string
	te := false
	for _, f := range fields {
		switch f.key {
		case "Connection":
			conn = append(conn, f.val)
		case "Transfer-Encoding":
			te = true
		}
	}
	listenerAltSvc := dst["Alt-Svc"] != nil
	var named [4]string
	names, ascii := connNames(conn, named[:0])
	vals := make([]string, len(fields))
	for i, f := range fields {
		if hop.Is(f.key) || f.key == "Content-Length" && te ||
			f.key == "Alt-Svc" && listenerAltSvc || conn != nil && isNamed(names, ascii, conn, f.key) {
			continue
		}
		vals[i] = f.val
		if seenBefore(fields, i) {
			dst[f.key] = append(dst[f.key], f.val)
		} else {
			dst[f.key] = vals[i : i+1 : i+1]
		}
	}
}

// connNames appends to names the names conn (the Connection fields)
// lists, as proxy.HasToken reads them; nil if there are more than fit
// in names' capacity. ascii reports they are all ASCII.
func connNames(conn []string, names []string) (_ []string, ascii bool) {
	ascii = true
	for _, v := range conn {
		for v != "" {
			var tok string
			tok, v, _ = strings.Cut(v, ",")
			if tok = strings.TrimSpace(tok); tok == "" {
				continue // names no field
			}
			if len(names) == cap(names) {
				return nil, false
			}
			names = append(names, tok)
			for i := 0; i < len(tok) && ascii; i++ {
				ascii = tok[i] < utf8.RuneSelf
			}
		}
	}
	return names, ascii
}

// isNamed reports whether conn names key: proxy.HasToken(conn, key),
// with the names parsed once (connNames) unless they were too many.
func isNamed(names []string, ascii bool, conn []string, key string) bool {
	if names == nil {
		return proxy.HasToken(conn, key)
	}
	for _, n := range names {
		// Names (ASCII tokens) of another length differ, unless n has
		// letters folding to ASCII ones ("ſ" to "s").
		if (!ascii || len(n) == len(key)) && strings.EqualFold(n, key) {
			return true
		}
	}
	return false
}

func seenBefore(fields []field, i int) bool {
	for j := 0; j < i; j++ {
		if fields[j].key == fields[i].key {
			return true
		}
	}
	return false
}

// upgrade hands the connection over for a 101 Switching Protocols.
func (ex *exchange) upgrade(h *head) error {
	pc := ex.pc
	pc.dl.known = false // the tunnel sets its own deadlines, on other goroutines
	pc.c.SetDeadline(time.Time{})
	hdr := make(http.Header, len(h.fields))
	for _, f := range h.fields {
		hdr[f.key] = append(hdr[f.key], f.val)
	}
	back := &upgraded{Reader: pc.br, Conn: pc.c, release: pc.pool.release}
	ex.pc = nil // the tunnel owns the connection now
	pc.closed = true
	return ex.f.tunnel.Relay(ex.w, ex.out, h.status, hdr, back, ex.t, ex.edit)
}

// upgraded is a target connection after 101: reads drain what was
// buffered first; Close frees its connection slot.
type upgraded struct {
	io.Reader
	net.Conn
	release func()
	closed  bool
}

func (u *upgraded) Read(p []byte) (int, error) { return u.Reader.Read(p) }

func (u *upgraded) Close() error {
	if !u.closed {
		u.closed = true
		defer u.release()
	}
	return u.Conn.Close()
}
