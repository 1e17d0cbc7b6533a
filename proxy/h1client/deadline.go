package h1client

import (
	"errors"
	"os"
	"time"
)

// Deadlines cost: each change re-arms a runtime timer under a lock, and
// a plain GET used to make five (the head's write, the quick wait for
// the answer, the wait for the rest of the head, each read of the body,
// the clearing in put). A bodiless exchange, whose own goroutine does
// all the I/O on its connection, instead keeps track of the deadlines in
// effect and of the ones it wants, and changes them only when it must:
//
//   - a deadline in effect may be earlier than the one wanted, never
//     later: when it expires first, the read or write re-arms the wanted
//     one and goes on (wire), so every timeout still fires when it says;
//   - a wanted deadline is applied only before I/O that may wait: a head
//     and a body that came whole in one read set nothing.
//
// So a quick GET sets one deadline at its start (both directions, one
// timer), and none at all while the one its predecessor set is still
// comfortably ahead (keepMargin). An exchange with a request body, whose
// sender changes deadlines from its own goroutine, sets them eagerly as
// before and leaves them unknown to the next one.

// deadlines is what a pconn knows of its connection's deadlines. Only
// the goroutine running the connection's exchange touches it.
type deadlines struct {
	// known says r and w are the deadlines in effect (zero: none); false
	// after an exchange with a request body or an upgrade, and for a new
	// connection. An abort (pconn.abort) moves both to the past without
	// telling: every expiry is then final.
	known bool
	r, w  time.Time
	// wantR and wantW bound the exchange's next wait to read and to
	// write (zero: no limit).
	wantR, wantW time.Time
}

// keepMargin is how far ahead a deadline earlier than the one wanted
// must be to be kept: a nearer one would likely expire mid-wait and cost
// a re-arm anyway.
const keepMargin = quickAnswer / 2

// keeps reports whether the deadline in effect e may stand for want.
func keeps(e, now, want time.Time) bool {
	return !e.IsZero() && e.Sub(now) >= keepMargin && (want.IsZero() || !e.After(want))
}

// after is the deadline d after now; zero (none) when d is not positive.
func after(now time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return now.Add(d)
}

// startPlain readies the deadlines of a bodiless exchange starting at
// now: its head's write bounded by the send timeout, the first wait for
// the answer by quickAnswer. When the deadlines in effect cannot stand
// for these, both are set to the earlier of the two in one change.
func (pc *pconn) startPlain(now time.Time) {
	d := &pc.dl
	d.wantW = after(now, pc.pool.opts.SendTimeout)
	d.wantR = now.Add(quickAnswer)
	if d.known && keeps(d.r, now, d.wantR) && keeps(d.w, now, d.wantW) {
		return
	}
	at := d.wantR
	if !d.wantW.IsZero() && d.wantW.Before(at) {
		at = d.wantW
	}
	// No watch exists yet, so no abort can race this.
	pc.c.SetDeadline(at)
	d.known, d.r, d.w = true, at, at
}

// wantRead bounds the next wait to read by want (zero: no limit),
// keeping the deadline in effect if it may stand for it. Only while the
// deadlines are known.
func (pc *pconn) wantRead(now, want time.Time) {
	d := &pc.dl
	d.wantR = want
	if keeps(d.r, now, want) {
		return
	}
	pc.setReadDeadline(want)
	d.r = want
}

// rearm reports whether err is the expiry of a deadline earlier than the
// one wanted, which it then sets in its place: the I/O may go on.
func (pc *pconn) rearm(err error, write bool) bool {
	d := &pc.dl
	if !d.known || !errors.Is(err, os.ErrDeadlineExceeded) || pc.aborted.Load() {
		return false
	}
	cur, want := &d.r, d.wantR
	if write {
		cur, want = &d.w, d.wantW
	}
	if cur.Equal(want) || !want.IsZero() && !time.Now().Before(want) {
		return false // the wanted deadline itself passed
	}
	if write {
		pc.setWriteDeadline(want)
	} else {
		pc.setReadDeadline(want)
	}
	*cur = want
	return true
}

// wire is the connection as the exchange reads (through pconn.br) and
// writes (a request head) it: an early deadline's expiry re-arms the
// wanted one and the read or write goes on.
type wire struct{ pc *pconn }

func (w *wire) Read(p []byte) (int, error) {
	for {
		n, err := w.pc.c.Read(p)
		if n > 0 || err == nil || !w.pc.rearm(err, false) {
			return n, err
		}
	}
}

func (w *wire) Write(p []byte) (int, error) {
	n := 0
	for {
		m, err := w.pc.c.Write(p[n:])
		n += m
		if err == nil || !w.pc.rearm(err, true) {
			return n, err
		}
	}
}
