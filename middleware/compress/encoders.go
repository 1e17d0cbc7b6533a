package compress

import (
	"io"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// coding is one content coding Gatehouse can produce.
type coding uint8

const (
	codingZstd coding = iota
	codingBrotli
	codingGzip
	numCodings
)

// names are the codings' names in Accept-Encoding and Content-Encoding.
var names = [numCodings]string{"zstd", "br", "gzip"}

// contentEncoding holds each coding's Content-Encoding value. Responses
// share these slices (cap 1, so an append copies); no code in Gatehouse
// writes into a header's value slice.
var contentEncoding = [numCodings][]string{{"zstd"}, {"br"}, {"gzip"}}

func codingOf(name string) (coding, bool) {
	for c, n := range names {
		if n == name {
			return coding(c), true
		}
	}
	return 0, false
}

func (c coding) defaultLevel() int {
	return [numCodings]int{defaultZstd, defaultBrotli, defaultGzip}[c]
}

// poolLevel maps a level of Options.Levels to the one encoders are made
// and pooled at: zstd's 22 levels are four encoders.
func (c coding) poolLevel(level int) int {
	if c == codingZstd {
		return int(zstd.EncoderLevelFromZstd(level))
	}
	return level
}

// encoder is what the three libraries' writers have in common.
type encoder interface {
	io.Writer
	// Flush writes out everything written so far, decodable, without
	// ending the stream.
	Flush() error
	// Close ends the stream, writing out its trailer.
	Close() error
	// Reset starts a new stream to dst.
	Reset(dst io.Writer)
}

// The windows (how far back a match may reach) are 512 KiB. The
// libraries' defaults (8 MiB for zstd, which RFC 9659 sets as the most an
// HTTP decoder must support, and 4 MiB for brotli) would make a pooled
// encoder that compressed a large body hold several MiB, for every
// response compressed at once; on the 2 MiB JSON body of the measurements
// the larger windows gained less than 0.5%.
const (
	zstdWindow   = 512 << 10
	brotliWindow = 19 // log2
)

// newEncoder returns an encoder of c at level (a pool level), writing to
// nothing until Reset.
func newEncoder(c coding, level int) encoder {
	switch c {
	case codingZstd:
		e, err := zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.EncoderLevel(level)),
			// One goroutine, the caller's: the encoder starts none.
			zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(zstdWindow),
			zstd.WithLowerEncoderMem(true))
		if err != nil {
			panic(err) // the options are constants and levels validated
		}
		return e
	case codingBrotli:
		return brotli.NewWriterOptions(nil, brotli.WriterOptions{Quality: level, LGWin: brotliWindow})
	}
	e, err := gzip.NewWriterLevel(nil, level)
	if err != nil {
		panic(err) // levels are validated by compile
	}
	return e
}

// maxLevel is the highest pool level of any coding (brotli's 11).
const maxLevel = 11

// pools holds idle encoders by coding and pool level. An idle encoder carries
// nothing of the response it served (Reset starts afresh) and nothing a
// reload would change, so one table serves every route and runtime:
// a pool per route would keep more idle encoders, each of 1 to 5 MiB
// once used (zstd 3: 1.6 MiB, brotli 4: 2.6 MiB, gzip 5: 1 MiB, after a
// 100 KiB body), for no gain. An idle encoder may still point at the pooled writer it
// wrote to last; it is Reset before it writes again.
var pools [numCodings][maxLevel + 1]sync.Pool

// getEncoder returns an encoder of c at level, writing to dst.
func getEncoder(c coding, level int, dst io.Writer) encoder {
	e, _ := pools[c][level].Get().(encoder)
	if e == nil {
		e = newEncoder(c, level)
	}
	e.Reset(dst)
	return e
}

// putEncoder returns e, of c at level, to its pool.
func putEncoder(c coding, level int, e encoder) {
	pools[c][level].Put(e)
}
