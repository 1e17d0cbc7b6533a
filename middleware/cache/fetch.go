package cache

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/middleware/cache/policy"
	"github.com/gatehouse-proxy/gatehouse/middleware/cache/store"
	"github.com/gatehouse-proxy/gatehouse/middleware/wrap"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// condEditor puts the cache's validators on the request sent upstream in
// place of the client's: the cache answers the client's conditional
// itself, from the full response it stores (RFC 9111 4.3.2).
type condEditor struct {
	strip    bool
	inm, ims string
}

func (e *condEditor) EditOutbound(h http.Header, _ *http.Request) {
	if e.strip {
		delete(h, "If-None-Match")
		delete(h, "If-Modified-Since")
	}
	if e.inm != "" {
		h["If-None-Match"] = []string{e.inm}
	}
	if e.ims != "" {
		h["If-Modified-Since"] = []string{e.ims}
	}
}

// fetch sends the request to the origin, conditionally when something
// stored could be revalidated, and answers the client from what comes
// back: the response itself (stored on the way when it may be), the
// stored response a 304 freshened, or a stale one the origin's error
// allows.
func (x *exchange) fetch(w http.ResponseWriter) {
	ed := &condEditor{strip: x.r.Method == http.MethodGet}
	if len(x.cands) > 0 {
		hs := make([]http.Header, len(x.cands))
		for i := range x.cands {
			hs[i] = x.cands[i].obj.header
		}
		ed.inm, ed.ims = policy.ValidatorsFor(hs)
	}
	x.info.AddOutbound(ed)
	for range 2 {
		f := &filler{x: x, hdr: make(http.Header), validating: ed.inm != "" || ed.ims != "", clen: -1}
		f.Reset(w, nil)
		if !f.forward() {
			return
		}
		// A 304 that freshens nothing stored: ask for the whole response.
		ed.inm, ed.ims = "", ""
		x.cands = nil
	}
}

type fillMode int

const (
	modePass fillMode = iota // to the client only
	modeTee                  // to the client and into the store
	modeHold                 // kept from the client: a 304 or an error the cache answers for
)

// filler is the ResponseWriter the origin's response is written to. It
// keeps its own header map, so a response the cache holds back (a 304 to
// its validators, an error it covers with a stale response) never
// touches the client's.
type filler struct {
	wrap.Writer
	x          *exchange
	hdr        http.Header
	validating bool
	start      time.Time

	decided  bool
	mode     fillMode
	status   int
	trailers []string

	sw          store.Writer
	stored      *object
	id          string
	clen        int64  // Content-Length of the response, -1 when none
	n           int64  // body bytes seen
	notModified bool   // the client's own conditional answered with 304
	held        bool   // the header waits, with pend, for the body's end (release)
	pend        []byte // body held back with the header
	onError     int    // held: 1 serve stale, 2 answer 504
}

func (f *filler) Header() http.Header { return f.hdr }

// forward runs the route's action and answers; it reports whether the
// exchange must be tried again without validators.
func (f *filler) forward() (again bool) {
	defer func() {
		if f.sw != nil { // a panic (an aborted body) or an incomplete one
			f.sw.Abort()
			f.sw = nil
		}
	}()
	f.start = f.x.h.now()
	f.x.h.next.ServeHTTP(f, f.x.r)
	if !f.decided {
		f.WriteHeader(http.StatusOK)
	}
	return f.finish()
}

func (f *filler) WriteHeader(code int) {
	if f.decided {
		return
	}
	if code < 200 {
		ch := f.Writer.Header()
		for k, v := range f.hdr {
			ch[k] = v
		}
		f.Writer.WriteHeader(code)
		return
	}
	f.decided = true
	f.status = code
	f.decide(code)
}

func (f *filler) Write(p []byte) (int, error) {
	if !f.decided {
		f.WriteHeader(http.StatusOK)
	}
	f.n += int64(len(p))
	if f.sw != nil {
		if _, err := f.sw.Write(p); err != nil {
			f.dropStore(err)
		}
	}
	if f.mode == modeHold || f.notModified || f.x.r.Method == http.MethodHead {
		return len(p), nil
	}
	if f.held {
		switch {
		case f.sw == nil: // the store gave it up
			f.release(notStored)
		case len(f.pend)+len(p) <= holdBytes:
			f.pend = append(f.pend, p...)
			return len(p), nil
		default:
			f.release(storing)
		}
	}
	return f.Writer.Write(p)
}

// ReadFrom copies through Write, so what is sent is also stored.
func (f *filler) ReadFrom(src io.Reader) (int64, error) {
	return io.Copy(writerOnly{f}, src)
}

type writerOnly struct{ io.Writer }

func (f *filler) FlushError() error {
	if !f.decided {
		f.WriteHeader(http.StatusOK)
	}
	if f.mode == modeHold {
		return nil
	}
	if f.held {
		f.release(storing)
	}
	return wrap.Flush(f.Writer.ResponseWriter)
}

func (f *filler) Flush() { _ = f.FlushError() }

// decide chooses, once the origin's status and header are known, what
// happens to the response.
func (f *filler) decide(code int) {
	x := f.x
	if len(x.cands) > 0 {
		best := x.cands[0].obj
		switch {
		case code == http.StatusNotModified && f.validating && x.info.Err == nil:
			f.mode = modeHold
			return
		case isServerError(code) && policy.StaleIfErrorAllowed(x.rd, best.dirs, x.freshness(best)):
			f.mode, f.onError = modeHold, 1
			return
		case x.info.Err != nil && isServerError(code) && policy.MustNotServeStale(best.dirs):
			f.mode, f.onError = modeHold, 2
			return
		}
	}
	if x.r.Method == http.MethodHead {
		f.headUpdate(code)
	}
	st := notStored
	sd := policy.ParseCacheControl(f.hdr)
	if ok, _ := f.storable(code, sd); ok && f.startStore(code, sd) {
		st = stored
		if f.clen < 0 && bodyAllowed(code) && x.r.Method == http.MethodGet {
			// A body of unknown length may yet outgrow the store.
			st = storing
		}
	}
	if f.sw != nil {
		f.mode = modeTee
	}
	ch := f.Writer.Header()
	for k, v := range f.hdr {
		ch[k] = v
	}
	for _, k := range dropToClient {
		delete(ch, k)
	}
	f.trailers = announcedTrailers(f.hdr)
	if code == http.StatusOK && x.r.Method == http.MethodGet {
		if c := policy.EvaluateConditional(x.r.Method, x.r.Header, f.hdr); c == http.StatusNotModified {
			f.notModified = true
			ch["Cache-Status"] = appendStatus(f.hdr["Cache-Status"], x.missStatus(code, st))
			notModifiedHeader(ch)
			f.Writer.WriteHeader(http.StatusNotModified)
			return
		}
	}
	if st == storing && len(f.trailers) == 0 {
		// Hold the header back with the first holdBytes of the body: a
		// body that ends within them is known to be stored, and goes
		// with a Content-Length.
		f.held = true
		return
	}
	f.release(st)
}

// holdBytes bounds the body of unknown length held back with the header
// until it ends, a Flush asks for it, or the store gives it up.
const holdBytes = 64 << 10

// release sends the header, saying st of the store, and any body held
// back with it.
func (f *filler) release(st storeState) {
	f.held = false
	ch := f.Writer.Header()
	ch["Cache-Status"] = appendStatus(f.hdr["Cache-Status"], f.x.missStatus(f.status, st))
	f.Writer.WriteHeader(f.status)
	if len(f.pend) > 0 {
		_, err := f.Writer.Write(f.pend)
		f.pend = nil
		if err != nil {
			panic(http.ErrAbortHandler) // the client is gone: as a failed Write would end the copy
		}
	}
}

// dropToClient are response fields for this cache only.
var dropToClient = []string{"Surrogate-Control", "Surrogate-Key", "Cache-Tag"}

func isServerError(code int) bool {
	switch code {
	case 500, 502, 503, 504:
		return true
	}
	return false
}

// storable reports whether the response may be stored here, and why not.
func (f *filler) storable(code int, sd policy.Directives) (bool, string) {
	x := f.x
	if x.r.Method != http.MethodGet {
		return false, "method"
	}
	if x.rd.NoStore {
		return false, "request no-store" // RFC 9111 5.2.1.5
	}
	if _, noStore := policy.ParseSurrogateControl(f.hdr); noStore {
		return false, "surrogate-control no-store"
	}
	if ok, why := policy.Storable(x.r.Method, x.r.Header, code, f.hdr, x.rd, sd, true); !ok {
		return false, why
	}
	// Credentials the route's auth took from a cookie, the query, an API
	// key header or an auth service count as Authorization (RFC 9111
	// 3.5): one caller's answer is stored for everyone only when the
	// origin says it is for everyone.
	if reqinfo.From(x.r.Context()).Identity != nil && !sd.Public && !sd.MustRevalidate && sd.SMaxAge < 0 {
		return false, policy.ReasonAuthorization
	}
	if ct := headerValue(f.hdr, "Content-Type"); strings.HasPrefix(strings.ToLower(ct), "text/event-stream") {
		return false, "event stream"
	}
	// Another client's cookie is never handed out, unless the origin
	// says in so many words that the response is for everyone.
	if _, ok := f.hdr["Set-Cookie"]; ok && !sd.Public && sd.SMaxAge < 0 {
		if !fieldListed(sd.PrivateFields, "Set-Cookie") && !fieldListed(sd.NoCacheFields, "Set-Cookie") {
			return false, "set-cookie"
		}
	}
	return true, ""
}

func fieldListed(fields []string, name string) bool {
	for _, f := range fields {
		if strings.EqualFold(f, name) {
			return true
		}
	}
	return false
}

// startStore opens a store writer for the response; false when the
// store will not take it.
func (f *filler) startStore(code int, sd policy.Directives) bool {
	x := f.x
	now := x.h.now()
	obj := &object{status: code, requestTime: f.start, responseTime: now, dirs: sd}
	obj.lifetime, _ = policy.FreshnessLifetime(code, f.hdr, sd, now, x.h.o.Policy)
	obj.surrogate, _ = policy.ParseSurrogateControl(f.hdr)
	if obj.surrogate >= 0 {
		obj.lifetime = time.Duration(obj.surrogate) * time.Second
	}
	hdr := policy.StoredHeader(f.hdr, sd)
	if _, ok := hdr["Date"]; !ok {
		hdr["Date"] = []string{now.UTC().Format(http.TimeFormat)} // RFC 9110 6.6.1: a cache adds the Date it received it
	}
	for _, k := range dropToClient {
		delete(hdr, k)
	}
	delete(hdr, "Cache-Status")
	for k, v := range hdr {
		hdr[k] = v[:len(v):len(v)]
	}
	obj.header = hdr
	names, star := policy.ParseVary(f.hdr)
	obj.star = star
	if star {
		return false // Vary: * never matches a later request (4.1)
	}
	for _, n := range names {
		obj.varyNames = append(obj.varyNames, n)
		obj.varyValues = append(obj.varyValues, x.h.varyValue(x.r, n))
	}
	expires := expiry(obj, now)
	if !expires.After(now) {
		return false
	}
	if cl, err := strconv.ParseInt(headerValue(f.hdr, "Content-Length"), 10, 64); err == nil && cl >= 0 {
		f.clen = cl
	}
	f.id = variantID(obj)
	e := store.Entry{Meta: obj.encode(), Tags: surrogateKeys(f.hdr), Expires: expires, Value: obj}
	sw, err := x.h.o.Store.Create(context.WithoutCancel(x.r.Context()), x.key, f.id, e, f.clen)
	if err != nil {
		if !errors.Is(err, store.ErrTooLarge) {
			x.h.log.Warn("cache: cannot store a response", "key", x.key, "error", err)
		}
		return false
	}
	f.sw, f.stored = sw, obj
	return true
}

// expiry is when a stored response stops being useful: the end of its
// freshness plus the longest it may be used stale (stale-while-
// revalidate, stale-if-error) or, with a validator, revalidated.
func expiry(o *object, now time.Time) time.Time {
	age := policy.CurrentAge(o.header, o.requestTime, o.responseTime, now)
	keep := time.Duration(max(o.dirs.StaleWhileRevalidate, o.dirs.StaleIfError, 0)) * time.Second
	if _, ok := o.header["Etag"]; ok {
		keep = max(keep, staleKeep)
	} else if _, ok := o.header["Last-Modified"]; ok {
		keep = max(keep, staleKeep)
	}
	return now.Add(o.lifetime - age + keep)
}

// variantID names a variant by its Vary fields' values. A collision only
// makes two variants replace each other: a hit always compares the
// values themselves.
func variantID(o *object) string {
	if len(o.varyNames) == 0 {
		return ""
	}
	h := fnv.New64a()
	for i := range o.varyNames {
		io.WriteString(h, o.varyNames[i])
		h.Write([]byte{0})
		io.WriteString(h, o.varyValues[i])
		h.Write([]byte{0})
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

// surrogateKeys are the tags a response carries for purging: Surrogate-Key
// (space-separated) and Cache-Tag (comma-separated).
func surrogateKeys(h http.Header) []string {
	var tags []string
	for _, v := range h["Surrogate-Key"] {
		tags = append(tags, strings.Fields(v)...)
	}
	for _, v := range h["Cache-Tag"] {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				tags = append(tags, t)
			}
		}
	}
	return tags
}

func (f *filler) dropStore(err error) {
	if !errors.Is(err, store.ErrTooLarge) {
		f.x.h.log.Warn("cache: storing a response failed", "key", f.x.key, "error", err)
	}
	f.sw.Abort()
	f.sw = nil
}

// headUpdate applies a HEAD response to the stored GET responses it
// describes (RFC 9111 4.3.5).
func (f *filler) headUpdate(code int) {
	x := f.x
	if code != http.StatusOK || len(x.cands) == 0 || x.info.Err != nil {
		return
	}
	c := x.cands[0]
	ctx := context.WithoutCancel(x.r.Context())
	if policy.HeadInvalidates(c.obj.header, f.hdr) {
		_ = x.h.o.Store.Delete(ctx, x.key)
		return
	}
	x.h.update(ctx, x, &c, f.hdr, f.start)
}

// finish ends the exchange once the action returned.
func (f *filler) finish() (again bool) {
	x := f.x
	switch {
	case f.mode == modeHold && f.status == http.StatusNotModified:
		return !f.freshened()
	case f.mode == modeHold && f.onError == 1:
		c := &x.cands[0]
		x.serve(f.Writer.ResponseWriter, c.obj, c, x.freshness(c.obj),
			Name+"; fwd=stale; fwd-status="+itoa(int64(f.status))+"; detail=stale-if-error"+x.keyParam(), false)
		return false
	case f.mode == modeHold:
		x.h.o.Fail(f.Writer.ResponseWriter, x.r, fmt.Errorf("%w: the stored response must be revalidated (must-revalidate) and the upstream failed: %w", funnel.ErrGatewayTimeout, x.info.Err))
		return false
	}
	if f.sw != nil {
		f.commit()
	}
	trailers := false
	for k := range f.hdr {
		trailers = trailers || strings.HasPrefix(k, http.TrailerPrefix)
	}
	if f.held {
		// The whole body was held: the header can say what happened,
		// and how long the body is.
		st := notStored
		if x.kept {
			st = stored
		}
		if !trailers {
			f.Writer.Header()["Content-Length"] = []string{itoa(f.n)}
		}
		f.release(st)
	}
	for _, k := range f.trailers {
		if v, ok := f.hdr[k]; ok {
			f.Writer.Header()[k] = v
		}
	}
	if trailers {
		for k, v := range f.hdr {
			if strings.HasPrefix(k, http.TrailerPrefix) {
				f.Writer.Header()[k] = v
			}
		}
	}
	return false
}

// commit stores the response the store writer took, if it is complete.
func (f *filler) commit() {
	x := f.x
	sw := f.sw
	f.sw = nil
	if (f.clen >= 0 && f.n != f.clen) || x.info.Err != nil {
		sw.Abort() // incomplete: never stored (RFC 9111 3.3)
		return
	}
	if _, ok := f.stored.header["Content-Length"]; !ok && bodyAllowed(f.stored.status) {
		// Not yet visible to anyone: hits from memory then need not
		// add it each time.
		f.stored.header["Content-Length"] = []string{itoa(f.n)}
	}
	if err := sw.Commit(context.WithoutCancel(x.r.Context())); err != nil {
		x.h.log.Warn("cache: storing a response failed", "key", x.key, "error", err)
	} else {
		x.kept = true
	}
}

// freshened applies a 304 to the stored responses it selects and
// answers the client from the freshest; false when it selected none.
func (f *filler) freshened() bool {
	x := f.x
	hs := make([]http.Header, len(x.cands))
	for i := range x.cands {
		hs[i] = x.cands[i].obj.header
	}
	sel := policy.SelectFor304(f.hdr, hs)
	if len(sel) == 0 {
		return false
	}
	ctx := context.WithoutCancel(x.r.Context())
	var first *object
	var firstC *candidate
	for _, i := range sel {
		c := &x.cands[i]
		o := x.h.update(ctx, x, c, f.hdr, f.start)
		if first == nil {
			first, firstC = o, c
		}
	}
	x.kept = true
	x.serve(f.Writer.ResponseWriter, first, firstC, x.freshness(first),
		Name+"; fwd=stale; fwd-status=304"+x.keyParam(), true)
	return true
}

// update stores c freshened by the header of a 304 or HEAD response
// (RFC 9111 3.2, 4.3.4), timed from the validation, and returns it.
func (h *handler) update(ctx context.Context, x *exchange, c *candidate, hdr http.Header, start time.Time) *object {
	now := h.now()
	o := *c.obj
	o.header = c.obj.header.Clone()
	policy.Freshen(o.header, hdr)
	for _, k := range dropToClient {
		delete(o.header, k)
	}
	delete(o.header, "Cache-Status")
	for k, v := range o.header {
		o.header[k] = v[:len(v):len(v)]
	}
	o.requestTime, o.responseTime = start, now
	o.dirs = policy.ParseCacheControl(o.header)
	o.lifetime, _ = policy.FreshnessLifetime(o.status, o.header, o.dirs, now, h.o.Policy)
	if ma, _ := policy.ParseSurrogateControl(hdr); ma >= 0 {
		o.surrogate = ma
	}
	if o.surrogate >= 0 {
		o.lifetime = time.Duration(o.surrogate) * time.Second
	}
	if err := h.o.Store.Update(ctx, x.key, c.v.ID, store.Entry{Meta: o.encode(), Value: &o, Expires: expiry(&o, now)}); err != nil {
		h.log.Warn("cache: updating a stored response failed", "key", x.key, "error", err)
	}
	return &o
}

// announcedTrailers lists the trailer fields the Trailer header names.
func announcedTrailers(h http.Header) []string {
	var out []string
	for _, v := range h["Trailer"] {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				out = append(out, http.CanonicalHeaderKey(name))
			}
		}
	}
	return out
}

// appendStatus adds this cache's Cache-Status member after those of the
// caches nearer the origin (RFC 9211 2).
func appendStatus(upstream []string, ours string) []string {
	if len(upstream) == 0 {
		return []string{ours}
	}
	return []string{strings.Join(upstream, ", ") + ", " + ours}
}
