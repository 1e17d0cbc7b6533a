package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/redis/go-redis/v9"
)

// redisWriter sends a body chunk by chunk, each a key of its own that
// expires with the variant, and at Commit adds the variant to the key's
// index: readers see the variant only once every chunk is stored, and a
// concurrent writer of the same variant writes under another body ID.
type redisWriter struct {
	r      *Redis
	ctx    context.Context // the request's: each chunk is sent under it
	key    string
	id     string
	e      Entry
	bodyID string
	buf    []byte // the chunk being filled; grows to a chunk, then is reused
	chunks int    // chunks sent
	size   int64
	err    error // a failed Write's: Commit refuses a cut body
	done   bool
}

// Write buffers p and sends every chunk it fills; it fails with
// ErrTooLarge past MaxObjectBytes, or with the error of a chunk's SET.
func (w *redisWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, errWriterDone
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.size+int64(len(p)) > w.r.maxObject {
		w.err = ErrTooLarge
		return 0, w.err
	}
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), w.r.chunk-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == w.r.chunk {
			if err := w.flush(); err != nil {
				w.err = err
				return 0, err
			}
		}
	}
	w.size += int64(n)
	return n, nil
}

// flush sends the buffered chunk, which expires with the variant.
func (w *redisWriter) flush() error {
	ctx, cancel := w.r.op(w.ctx)
	defer cancel()
	key := w.r.chunkKey(w.bodyID, w.chunks)
	if err := w.r.c.SetArgs(ctx, key, w.buf, redis.SetArgs{ExpireAt: w.e.Expires}).Err(); err != nil {
		return fmt.Errorf("redis store chunk %s: %w", key, err)
	}
	w.chunks++
	w.buf = w.buf[:0]
	return nil
}

// Commit sends the last chunk and adds the variant to the index.
func (w *redisWriter) Commit(ctx context.Context) error {
	if w.done {
		return errWriterDone
	}
	if w.err != nil {
		w.Abort()
		return w.err
	}
	if !w.e.Expires.After(w.r.now()) {
		w.Abort()
		return nil
	}
	if len(w.buf) > 0 {
		if err := w.flush(); err != nil {
			w.Abort()
			return err
		}
	}
	w.done = true
	h := header{expires: w.e.Expires, bodyID: w.bodyID, chunks: w.chunks, size: w.size, tags: dedupTags(w.e.Tags), meta: w.e.Meta}
	enc, err := h.encode()
	if err == nil {
		octx, cancel := w.r.op(ctx)
		err = commitScript.Run(octx, w.r.c, []string{w.r.indexKey(w.key)}, w.r.prefix, w.id, enc,
			MaxVariants, retireGrace.Milliseconds(), w.key, w.r.now().UnixMilli()).Err()
		cancel()
	}
	if err != nil {
		w.unlink()
		return fmt.Errorf("redis commit %q: %w", w.key, err)
	}
	return nil
}

// Abort drops the chunks already sent.
func (w *redisWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.unlink()
}

// unlink removes the chunks sent, even when the request has ended; they
// expire anyway if Redis cannot be reached.
func (w *redisWriter) unlink() {
	if w.chunks == 0 {
		return
	}
	keys := make([]string, w.chunks)
	for i := range keys {
		keys[i] = w.r.chunkKey(w.bodyID, i)
	}
	ctx, cancel := w.r.op(context.WithoutCancel(w.ctx))
	defer cancel()
	_ = w.r.c.Unlink(ctx, keys...).Err()
}

// redisBody is a body stored in chunks.
type redisBody struct {
	r      *Redis
	id     string
	chunks int
	size   int64
}

func (b *redisBody) Size() int64 { return b.size }

// WriteTo reads the chunks in order, each under the store's timeout, and
// fetches the next one while it writes the current one to w. A chunk that
// is gone fails it with ErrBodyGone.
func (b *redisBody) WriteTo(ctx context.Context, w io.Writer) (int64, error) {
	switch b.chunks {
	case 0:
		return 0, nil
	case 1:
		data, err := b.chunk(ctx, 0)
		if err != nil {
			return 0, err
		}
		n, err := w.Write(data)
		return b.check(int64(n), err)
	}
	type fetched struct {
		data []byte
		err  error
	}
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan fetched)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ch)
		for i := range b.chunks {
			data, err := b.chunk(ctx, i)
			select {
			case ch <- fetched{data, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer wg.Wait()
	defer cancel()
	var n int64
	for f := range ch {
		if f.err != nil {
			return n, f.err
		}
		m, err := w.Write(f.data)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return b.check(n, ctx.Err())
}

// check turns a short body into an error: a chunk was replaced by one of
// another length, which a fresh body ID per writer rules out.
func (b *redisBody) check(n int64, err error) (int64, error) {
	if err == nil && n != b.size {
		err = fmt.Errorf("%w: body %s has %d bytes, want %d", ErrBodyGone, b.id, n, b.size)
	}
	return n, err
}

func (b *redisBody) chunk(ctx context.Context, i int) ([]byte, error) {
	ctx, cancel := b.r.op(ctx)
	defer cancel()
	data, err := b.r.c.Get(ctx, b.r.chunkKey(b.id, i)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%w: chunk %d of %d of body %s", ErrBodyGone, i, b.chunks, b.id)
	}
	if err != nil {
		return nil, fmt.Errorf("redis read chunk %d of body %s: %w", i, b.id, err)
	}
	return data, nil
}
