package store

import (
	"context"
	"errors"
	"io"
)

// promotingBody is a Redis variant that copies itself into memory while it
// is written out, once per key and variant at a time, if it fits.
type promotingBody struct {
	t   *Tiered
	key string
	v   Variant // its Body is Redis's
}

func (b *promotingBody) Size() int64 { return b.v.Body.Size() }

// WriteTo streams the body to w and, as it goes, into a memory writer that
// commits once the whole body has passed. The client never waits for the
// copy.
func (b *promotingBody) WriteTo(ctx context.Context, w io.Writer) (int64, error) {
	t := b.t
	tee := &teeWriter{w: w}
	claim := b.key + "\x00" + b.v.ID
	if b.Size() <= t.front.maxObject {
		if _, busy := t.promoting.LoadOrStore(claim, struct{}{}); !busy {
			defer t.promoting.Delete(claim)
			if m, err := t.front.Create(ctx, b.key, b.v.ID, b.v.Entry, b.Size()); err == nil {
				tee.m = m
			}
		}
	}
	n, err := b.v.Body.WriteTo(ctx, tee)
	if err != nil && !errors.Is(err, tee.werr) {
		t.observe(ctx, err)
	}
	if tee.m != nil {
		if err != nil {
			tee.m.Abort()
		} else if tee.m.Commit(ctx) == nil {
			t.counts.promotions.Add(1)
		}
	}
	return n, err
}

// teeWriter writes to w and copies what w took into m, dropping m if it
// fails; werr is w's error, told apart from the reader's.
type teeWriter struct {
	w    io.Writer
	m    Writer
	werr error
}

func (t *teeWriter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if t.m != nil && n > 0 {
		if _, merr := t.m.Write(p[:n]); merr != nil {
			t.m.Abort()
			t.m = nil
		}
	}
	if err != nil {
		t.werr = err
	}
	return n, err
}

// tieredWriter writes to the tiers that took the variant; a tier whose
// write fails drops out, and the write fails only when none is left.
type tieredWriter struct {
	t    *Tiered
	ctx  context.Context
	m, r Writer
	err  error // why a tier dropped out; ErrTooLarge first
}

func (w *tieredWriter) keep(err error) {
	if w.err == nil || errors.Is(err, ErrTooLarge) {
		w.err = err
	}
}

func (w *tieredWriter) Write(p []byte) (int, error) {
	if w.m != nil {
		if _, err := w.m.Write(p); err != nil {
			w.keep(err)
			w.m.Abort()
			w.m = nil
		}
	}
	if w.r != nil {
		var err error
		if w.t.degraded.Load() {
			err = errors.New("store: redis unavailable")
		} else if _, err = w.r.Write(p); err != nil {
			w.t.observe(w.ctx, err)
		}
		if err != nil {
			w.keep(err)
			w.r.Abort()
			w.r = nil
		}
	}
	if w.m == nil && w.r == nil {
		return 0, w.err
	}
	return len(p), nil
}

// Commit commits both tiers; it succeeds if either does.
func (w *tieredWriter) Commit(ctx context.Context) error {
	ok := false
	if w.m != nil {
		if err := w.m.Commit(ctx); err != nil {
			w.keep(err)
		} else {
			ok = true
		}
	}
	if w.r != nil {
		if err := w.r.Commit(ctx); err != nil {
			w.t.observe(ctx, err)
			w.keep(err)
		} else {
			ok = true
		}
	}
	w.m, w.r = nil, nil
	if ok {
		return nil
	}
	if w.err == nil {
		return errWriterDone
	}
	return w.err
}

func (w *tieredWriter) Abort() {
	if w.m != nil {
		w.m.Abort()
	}
	if w.r != nil {
		w.r.Abort()
	}
	w.m, w.r = nil, nil
}
