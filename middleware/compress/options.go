package compress

import (
	"errors"
	"fmt"
	"slices"

	"github.com/gatehouse-proxy/gatehouse/internal/mediatype"
)

// Options configures the middleware. It is read once, by New; config has
// validated it (with LevelRange and CheckType), and New checks it again.
type Options struct {
	// Encodings are the content codings offered, most preferred first:
	// any of "zstd", "br" and "gzip", each at most once. Empty means
	// DefaultEncodings. The order only breaks ties: a coding the client
	// weighs higher wins (see Negotiate).
	Encodings []string
	// Levels sets the compression level of an encoding, within
	// LevelRange(encoding). A missing encoding means the default level,
	// chosen for speed; so does 0 for zstd and gzip, which have no level
	// 0 (brotli's quality 0 is a level).
	Levels map[string]int
	// Types are the media types compressed: "type/subtype", "type/*",
	// "type/*+suffix" or "*/*" (see CheckType), matched without case and
	// ignoring parameters. Empty means DefaultTypes.
	Types []string
	// MinBytes is the smallest body compressed; 0 means DefaultMinBytes
	// and 1 compresses every non-empty body. Below about 1 KiB the saving
	// is a packet at most and the coding's header and trailer eat into it.
	MinBytes int64
}

// DefaultMinBytes is the MinBytes used when Options leaves it 0.
const DefaultMinBytes = 1024

// DefaultEncodings returns the encodings offered when Options leaves them
// empty, in preference order: zstd compresses about as well as brotli's
// default level at several times its speed; brotli next, as every browser
// has it; gzip for every other client.
func DefaultEncodings() []string { return []string{"zstd", "br", "gzip"} }

// DefaultTypes returns the media types compressed when Options leaves
// them empty: text, and the structured and scripted formats that are
// text underneath. Images other than SVG, audio, video, fonts in WOFF and
// archives are compressed already and are left out.
func DefaultTypes() []string {
	return []string{
		"text/*", // html, css, plain, csv, javascript, markdown, event-stream
		"application/json", "application/*+json", "application/x-ndjson",
		"application/javascript", "application/x-javascript", "application/ecmascript",
		"application/xml", "application/*+xml", // atom, rss, xhtml
		"application/wasm", "application/yaml", "application/x-yaml",
		"image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon", "image/bmp",
		"font/ttf", "font/otf", "application/vnd.ms-fontobject",
	}
}

// defaultTypes is DefaultTypes compiled, for TypeCompressible.
var defaultTypes = func() types {
	var ts types
	for _, s := range DefaultTypes() {
		p, err := mediatype.Parse(s)
		if err != nil {
			panic(err)
		}
		ts = append(ts, p)
	}
	return ts
}()

// TypeCompressible reports whether DefaultTypes name the media type of
// the Content-Type value ct: whether a body of that type is worth
// compressing. It does not allocate.
func TypeCompressible(ct string) bool { return defaultTypes.match(ct) }

// The default levels favour speed: a proxy compresses every response
// anew, while the client waits. BenchmarkLevels measures the encoders;
// ratio (identity size over compressed) and time to compress 100 KiB of
// JSON and of Go source, best of 9 runs on a shared 2-core machine:
//
//	           JSON            Go source
//	zstd 1   4.26  0.28 ms   2.97  0.36 ms
//	zstd 3   4.38  0.34 ms   3.20  0.61 ms  default
//	zstd 6   4.60  0.50 ms   3.33  0.80 ms
//	br 3     4.27  1.25 ms   3.25  1.57 ms
//	br 4     4.39  1.77 ms   3.35  2.39 ms  default
//	br 5     4.63  3.06 ms   3.59  4.95 ms
//	gzip 3   3.94  0.28 ms   2.97  0.81 ms
//	gzip 5   4.27  0.52 ms   3.25  0.82 ms  default
//	gzip 6   4.33  0.57 ms   3.29  0.83 ms
//
// zstd 3 (zstd's own default, klauspost's SpeedDefault) is as small as
// gzip 5 (2.5% smaller on JSON, 1.6% larger on source) for two thirds of
// its CPU; zstd 1 is 8% larger on source, and 6 and up hold 5 MiB per
// encoder (against 1.6 MiB) and took twice the time in quieter runs. gzip
// 5 is within 1.5% of gzip 6 (zlib's default) for a little less CPU.
// Brotli is the slowest: quality 4 is the lowest that beats gzip 5 on
// both bodies (by 3%), for the clients that take br and not zstd
// (Safari); quality 5 costs twice as much again.
const (
	defaultZstd   = 3
	defaultBrotli = 4
	defaultGzip   = 5
)

// LevelRange returns the levels Options.Levels accepts for encoding, and
// (0, 0) for an unknown encoding:
//
//   - "zstd": 1 to 22, zstd's own scale, mapped to klauspost/compress's
//     four encoders as it maps them: 1-2 SpeedFastest, 3-5 SpeedDefault,
//     6-9 SpeedBetterCompression, 10-22 SpeedBestCompression. Default 3.
//   - "br": brotli quality 0 to 11. Default 4.
//   - "gzip": 1 to 9. Default 5.
func LevelRange(encoding string) (lo, hi int) {
	switch encoding {
	case "zstd":
		return 1, 22
	case "br":
		return 0, 11
	case "gzip":
		return 1, 9
	}
	return 0, 0
}

// compile checks o and resolves its defaults.
func compile(o Options) (*compressor, error) {
	c := &compressor{minBytes: o.MinBytes}
	if c.minBytes == 0 {
		c.minBytes = DefaultMinBytes
	}
	var errs []error
	if c.minBytes < 0 {
		errs = append(errs, fmt.Errorf("min_bytes %d is negative", o.MinBytes))
	}
	c.encodings = o.Encodings
	if len(c.encodings) == 0 {
		c.encodings = DefaultEncodings()
	}
	c.encodings = slices.Clone(c.encodings)
	for i, name := range c.encodings {
		cd, ok := codingOf(name)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("unknown encoding %q (want zstd, br or gzip)", name))
		case slices.Contains(c.encodings[:i], name):
			errs = append(errs, fmt.Errorf("encoding %q listed twice", name))
		}
		c.codings = append(c.codings, cd)
	}
	for name, level := range o.Levels {
		lo, hi := LevelRange(name)
		cd, _ := codingOf(name)
		switch {
		case !slices.Contains(c.encodings, name):
			errs = append(errs, fmt.Errorf("level for encoding %q, which is not offered", name))
		case level == 0 && cd != codingBrotli:
		case level < lo || level > hi:
			errs = append(errs, fmt.Errorf("%s level %d is outside %d to %d", name, level, lo, hi))
		}
	}
	for i, cd := range c.codings {
		level, set := o.Levels[c.encodings[i]]
		if !set || level == 0 && cd != codingBrotli {
			level = cd.defaultLevel()
		}
		c.levels = append(c.levels, cd.poolLevel(level))
	}
	ts := o.Types
	if len(ts) == 0 {
		ts = DefaultTypes()
	}
	for _, s := range ts {
		p, err := mediatype.Parse(s)
		if err != nil {
			errs = append(errs, err)
		}
		c.types = append(c.types, p)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	return c, nil
}
