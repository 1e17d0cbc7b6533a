// Package copybuf is the one pool of the 32 KiB buffers bodies are
// copied through (io.Copy would allocate one per body), shared by every
// package that copies, so that a buffer freed by one serves another.
package copybuf

import (
	"io"
	"sync"
)

// Size is the length of every buffer.
const Size = 32 << 10

var pool = sync.Pool{New: func() any { b := make([]byte, Size); return &b }}

// Get returns a buffer of Size bytes; Put it back when done.
func Get() *[]byte { return pool.Get().(*[]byte) }

// Put returns b, from Get, to the pool.
func Put(b *[]byte) { pool.Put(b) }

// Copy is io.CopyBuffer through a pooled buffer (unused when src is an
// io.WriterTo or dst an io.ReaderFrom).
func Copy(dst io.Writer, src io.Reader) (int64, error) {
	bp := Get()
	defer Put(bp)
	return io.CopyBuffer(dst, src, *bp)
}
