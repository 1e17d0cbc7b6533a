package store

import (
	"context"
	"errors"
	"io"
	"sync"
)

// memChunk is the size of a memory body's chunks: large enough that a
// body of a few MiB is a short list, small enough that storing never
// reallocates much.
const memChunk = 32 << 10

// memBody is a body held in memory, immutable once committed.
type memBody struct {
	chunks [][]byte
	size   int64
	mem    int64 // the chunks' capacity, as the store counts it
}

func (b *memBody) Size() int64 { return b.size }

// WriteTo writes the chunks to w as they are, checking ctx between them.
func (b *memBody) WriteTo(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	for _, c := range b.chunks {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		m, err := w.Write(c)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// memWriter collects a body into chunks. Full chunks come from the
// store's pool; Commit trims the last one and gives the full-size buffer
// back, and Abort gives all of them back.
type memWriter struct {
	m      *Memory
	key    string
	id     string
	e      Entry
	hint   int64 // the announced size, or -1
	chunks [][]byte
	size   int64
	err    error // a failed Write's: Commit refuses a cut body
	done   bool
}

// Write appends p; past the store's MaxObjectBytes it fails with
// ErrTooLarge and keeps nothing of p.
func (w *memWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, errWriterDone
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.size+int64(len(p)) > w.m.maxObject {
		w.err = ErrTooLarge
		return 0, w.err
	}
	n := len(p)
	for len(p) > 0 {
		last := len(w.chunks) - 1
		if last < 0 || len(w.chunks[last]) == cap(w.chunks[last]) {
			w.chunks = append(w.chunks, w.newChunk())
			last++
		}
		c := w.chunks[last]
		k := copy(c[len(c):cap(c)], p)
		w.chunks[last] = c[:len(c)+k]
		p = p[k:]
	}
	w.size += int64(n)
	return n, nil
}

// newChunk returns an empty chunk: exactly the rest of an announced body
// when it is smaller than a chunk, else a pooled full-size one.
func (w *memWriter) newChunk() []byte {
	if rest := w.hint - w.size; w.hint >= 0 && rest > 0 && rest < memChunk {
		return make([]byte, 0, rest)
	}
	return w.m.chunks.get()
}

// Commit makes the variant visible.
func (w *memWriter) Commit(context.Context) error {
	if w.done {
		return errWriterDone
	}
	if w.err != nil {
		w.Abort()
		return w.err
	}
	w.done = true
	b := &memBody{size: w.size}
	if last := len(w.chunks) - 1; last >= 0 && cap(w.chunks[last]) == memChunk && len(w.chunks[last]) < memChunk {
		full := w.chunks[last]
		w.chunks[last] = append([]byte(nil), full...)
		w.m.chunks.put(full)
	}
	b.chunks = w.chunks[:len(w.chunks):len(w.chunks)]
	for _, c := range b.chunks {
		b.mem += int64(cap(c))
	}
	w.chunks = nil
	w.m.commit(w.key, Variant{ID: w.id, Entry: w.e, Body: b})
	return nil
}

// Abort drops what was written.
func (w *memWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	for _, c := range w.chunks {
		if cap(c) == memChunk {
			w.m.chunks.put(c)
		}
	}
	w.chunks = nil
}

// chunkPool recycles full-size chunks that never became part of a stored
// body. A committed body's chunks are never recycled: a reader may still
// hold them after the body is evicted.
type chunkPool struct{ p sync.Pool }

func (p *chunkPool) get() []byte {
	if b, ok := p.p.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, memChunk)
}

func (p *chunkPool) put(b []byte) {
	b = b[:0]
	p.p.Put(&b)
}

var errWriterDone = errors.New("store: writer already committed or aborted")
