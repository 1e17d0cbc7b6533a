package copybuf

import (
	"bytes"
	"strings"
	"testing"
)

// TestCopy: every byte arrives, in order, through a buffer of Size that
// goes back to the pool (a body longer than one buffer takes several).
func TestCopy(t *testing.T) {
	src := strings.Repeat("0123456789", 3*Size/10+7)
	var dst bytes.Buffer
	n, err := Copy(struct{ *bytes.Buffer }{&dst}, strings.NewReader(src)) // no ReaderFrom: the buffer is used
	if err != nil || n != int64(len(src)) || dst.String() != src {
		t.Fatalf("copied %d of %d bytes (%v); equal %v", n, len(src), err, dst.String() == src)
	}
	if b := Get(); len(*b) != Size {
		t.Fatalf("a pooled buffer of %d bytes, want %d", len(*b), Size)
	}
}
