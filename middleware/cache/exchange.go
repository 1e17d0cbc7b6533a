package cache

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/middleware/cache/policy"
	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

// exchange is one GET or HEAD through the cache.
type exchange struct {
	h    *handler
	r    *http.Request
	info *reqinfo.Info
	key  string
	rd   policy.Directives // the request's Cache-Control

	cands     []candidate  // stored variants that match, most recent first
	cbuf      [1]candidate // cands' storage for the common one
	variants  int          // variants stored under key, matching or not
	collapsed bool         // waited for another request's miss
	settles   bool         // led the key's flight or skipped it: records how the fetch ended
	kept      bool         // the fetch stored or freshened a response
	// background is set for a revalidation nobody waits for.
	background bool
}

var errOnlyIfCached = errors.New("only-if-cached: no stored response can answer this request")

// run answers from the store when a stored response may be used, and
// otherwise goes to the origin, collapsing with a concurrent miss of the
// same key first.
func (x *exchange) run(w http.ResponseWriter) {
	ctx := x.r.Context()
	for waited := false; ; waited = true {
		x.cands, x.variants = x.h.lookup(ctx, x.key, x.r, x.cbuf[:0])
		if len(x.cands) > 0 {
			c := &x.cands[0]
			f := x.freshness(c.obj)
			switch policy.Evaluate(x.rd, c.obj.dirs, f) {
			case policy.UseFresh, policy.UseStale:
				x.serve(w, c.obj, c, f, x.hitStatus(f, ""), false)
				return
			case policy.UseStaleRevalidate:
				x.serve(w, c.obj, c, f, x.hitStatus(f, "stale-while-revalidate"), false)
				x.h.revalidateLater(x)
				return
			}
		}
		if x.rd.OnlyIfCached {
			// RFC 9111 5.2.1.7: 504 when nothing stored may answer.
			x.h.o.Fail(w, x.r, errors.Join(funnel.ErrGatewayTimeout, errOnlyIfCached))
			return
		}
		if waited || x.r.Method == http.MethodHead || x.rd.NoStore {
			// Only a GET whose response may be stored leads or joins a
			// flight: the others could not answer their followers.
			break
		}
		if x.h.flights.passing(x.key, x.h.now()) {
			x.settles = true
			break
		}
		fl, leader := x.h.flights.join(x.key)
		if leader {
			defer x.h.flights.done(x.key, fl)
			x.settles = true
			break
		}
		if !fl.wait(ctx, x.h.o.LockTimeout) {
			break
		}
		x.collapsed = true
	}
	if x.settles {
		// Before done wakes the waiters: they must see the pass.
		defer func() {
			if x.kept || x.info.Err == nil {
				x.h.flights.settle(x.key, x.kept, x.h.now())
			}
		}()
	}
	x.fetch(w)
}

// freshness is the lifetime and current age of a stored response now
// (RFC 9111 4.2.3).
func (x *exchange) freshness(o *object) policy.Freshness {
	return policy.Freshness{
		Lifetime: o.lifetime,
		Age:      policy.CurrentAge(o.header, o.requestTime, o.responseTime, x.h.now()),
	}
}

// hitStatus is the Cache-Status of a response served from the store,
// built in one allocation: it is on every hit.
func (x *exchange) hitStatus(f policy.Freshness, detail string) string {
	k := x.keyText()
	var b strings.Builder
	b.Grow(len(Name) + 48 + len(k) + len(detail))
	b.WriteString(Name)
	b.WriteString("; hit; ttl=")
	var num [20]byte
	b.Write(strconv.AppendInt(num[:0], int64((f.Lifetime-f.Age)/time.Second), 10))
	if x.collapsed {
		b.WriteString("; collapsed")
	}
	if detail != "" {
		b.WriteString("; detail=")
		b.WriteString(detail)
	}
	if k != "" {
		b.WriteString(`; key="`)
		b.WriteString(k)
		b.WriteByte('"')
	}
	return b.String()
}

// storeState is what the cache can say, when the header goes, of storing
// the response.
type storeState int

const (
	notStored storeState = iota
	stored               // the store took it and has room for all of it
	storing              // unknown length: kept if it completes within the store's limit
)

// missStatus is the Cache-Status of a response that went to the origin.
func (x *exchange) missStatus(code int, st storeState) string {
	s := Name + "; fwd=" + x.fwdReason() + "; fwd-status=" + itoa(int64(code))
	switch st {
	case stored:
		s += "; stored"
	case storing:
		s += "; detail=storing"
	}
	if x.collapsed {
		s += "; collapsed"
	}
	return s + x.keyParam()
}

// fwdReason says why the request went to the origin (RFC 9211 2.2).
func (x *exchange) fwdReason() string {
	switch {
	case len(x.cands) > 0:
		c := x.cands[0].obj
		if x.freshness(c).Age < c.lifetime {
			return "request" // fresh, but the request asked for validation
		}
		return "stale"
	case x.variants > 0:
		return "vary-miss"
	}
	return "uri-miss"
}

// keyParam is the key parameter, or "" (see keyText).
func (x *exchange) keyParam() string {
	if k := x.keyText(); k != "" {
		return `; key="` + k + `"`
	}
	return ""
}

// keyText is the URL part of the key, for the key parameter, or "" when
// it holds a character an sf-string cannot.
func (x *exchange) keyText() string {
	k := urlPart(x.key)
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return ""
		}
	}
	return k
}
