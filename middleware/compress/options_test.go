package compress

import (
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want []string // substrings of the error
	}{
		{"unknown encoding", Options{Encodings: []string{"deflate"}}, []string{`unknown encoding "deflate"`}},
		{"twice", Options{Encodings: []string{"gzip", "br", "gzip"}}, []string{`"gzip" listed twice`}},
		{"level range", Options{Levels: map[string]int{"zstd": 23, "gzip": -1, "br": 12}},
			[]string{"zstd level 23 is outside 1 to 22", "gzip level -1 is outside 1 to 9", "br level 12 is outside 0 to 11"}},
		{"gzip 10", Options{Levels: map[string]int{"gzip": 10}}, []string{"gzip level 10"}},
		{"level for coding not offered", Options{Encodings: []string{"gzip"}, Levels: map[string]int{"br": 5}},
			[]string{`encoding "br", which is not offered`}},
		{"type", Options{Types: []string{"text", "text/x*", "*/json", "a b/c", "text/html; charset=utf-8"}},
			[]string{`"text" is not`, `"text/x*"`, `"*/json"`, `"a b/c"`, `"text/html; charset=utf-8"`}},
		{"min bytes", Options{MinBytes: -1}, []string{"min_bytes -1 is negative"}},
		{"every problem", Options{Encodings: []string{"lz4"}, MinBytes: -5, Types: []string{"x"}},
			[]string{"lz4", "-5", `"x"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mw, err := New(tc.o)
			if err == nil || mw != nil {
				t.Fatalf("New accepted %+v", tc.o)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c, err := compile(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.encodings, ",") != "zstd,br,gzip" {
		t.Errorf("encodings %v", c.encodings)
	}
	want := []int{int(zstd.SpeedDefault), defaultBrotli, defaultGzip}
	for i, l := range c.levels {
		if l != want[i] {
			t.Errorf("%s pool level %d, want %d", c.encodings[i], l, want[i])
		}
	}
	if c.minBytes != DefaultMinBytes || len(c.types) != len(DefaultTypes()) {
		t.Errorf("min %d, %d types", c.minBytes, len(c.types))
	}
	// The defaults are copies: changing one changes nothing else.
	DefaultEncodings()[0] = "lz4"
	DefaultTypes()[0] = "x"
	if DefaultEncodings()[0] != "zstd" || DefaultTypes()[0] != "text/*" {
		t.Error("defaults are shared")
	}
	if lo, hi := LevelRange("deflate"); lo != 0 || hi != 0 {
		t.Errorf("LevelRange(deflate) = %d, %d", lo, hi)
	}

	c, err = compile(Options{Encodings: []string{"gzip", "br"}, Levels: map[string]int{"gzip": 9, "br": 0}, MinBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	if c.levels[0] != 9 || c.levels[1] != 0 || c.minBytes != 1 || c.codings[0] != codingGzip {
		t.Errorf("levels %v, min %d, codings %v", c.levels, c.minBytes, c.codings)
	}
	// 0 is the default where it is not a level; zstd's scale maps to
	// four encoders.
	for levels, want := range map[[3]int][]int{
		{0, 0, 0}:   {int(zstd.SpeedDefault), 0, defaultGzip},
		{1, 11, 1}:  {int(zstd.SpeedFastest), 11, 1},
		{9, 4, 9}:   {int(zstd.SpeedBetterCompression), 4, 9},
		{22, 1, 3}:  {int(zstd.SpeedBestCompression), 1, 3},
		{10, 6, 6}:  {int(zstd.SpeedBestCompression), 6, 6},
		{5, 2, 2}:   {int(zstd.SpeedDefault), 2, 2},
		{2, 10, 8}:  {int(zstd.SpeedFastest), 10, 8},
		{6, 3, 4}:   {int(zstd.SpeedBetterCompression), 3, 4},
		{3, 5, 5}:   {int(zstd.SpeedDefault), 5, 5},
		{20, 7, 7}:  {int(zstd.SpeedBestCompression), 7, 7},
		{4, 8, 1}:   {int(zstd.SpeedDefault), 8, 1},
		{7, 9, 9}:   {int(zstd.SpeedBetterCompression), 9, 9},
		{11, 0, 2}:  {int(zstd.SpeedBestCompression), 0, 2},
		{12, 11, 3}: {int(zstd.SpeedBestCompression), 11, 3},
	} {
		c, err := compile(Options{Levels: map[string]int{"zstd": levels[0], "br": levels[1], "gzip": levels[2]}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c.levels, want) {
			t.Errorf("levels %v: pool levels %v, want %v", levels, c.levels, want)
		}
	}
}

// TestEveryLevel builds an encoder at every level LevelRange allows and
// checks it round-trips.
func TestEveryLevel(t *testing.T) {
	body := jsonBody(4 << 10)
	for c := range numCodings {
		lo, hi := LevelRange(names[c])
		for level := lo; level <= hi; level++ {
			var out strings.Builder
			pl := c.poolLevel(level)
			e := getEncoder(c, pl, &out)
			if _, err := e.Write(body); err != nil {
				t.Fatal(err)
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			putEncoder(c, pl, e)
			if got := decode(t, names[c], []byte(out.String())); string(got) != string(body) {
				t.Errorf("%s level %d does not round-trip", names[c], level)
			}
		}
	}
}

func TestTypes(t *testing.T) {
	c, err := compile(Options{})
	if err != nil {
		t.Fatal(err)
	}
	yes := []string{
		"text/html", "text/html; charset=utf-8", "TEXT/HTML;charset=UTF-8", " text/css ",
		"text/event-stream", "application/json", "Application/JSON; charset=utf-8",
		"application/problem+json", "application/ld+json", "application/vnd.api+JSON",
		"application/javascript", "application/xml", "application/atom+xml", "image/svg+xml",
		"application/wasm", "application/x-ndjson", "image/x-icon", "font/ttf",
	}
	no := []string{
		"", "text", "/html", "text/", "image/png", "image/jpeg", "application/octet-stream",
		"application/zip", "application/gzip", "font/woff2", "video/mp4", "application/+json",
		"application/jsonx", "xtext/html", "application/x-json-stream-but-not",
	}
	for _, ct := range yes {
		if !c.types.match(ct) {
			t.Errorf("%q not compressible", ct)
		}
	}
	for _, ct := range no {
		if c.types.match(ct) {
			t.Errorf("%q compressible", ct)
		}
	}

	custom, err := compile(Options{Types: []string{"Application/Foo", "*/*+yaml", "image/*"}})
	if err != nil {
		t.Fatal(err)
	}
	for ct, want := range map[string]bool{
		"application/foo": true, "APPLICATION/FOO; x=y": true, "text/x+yaml": true, "image/png": true,
		"text/html": false, "application/foobar": false, "text/+yaml": false,
	} {
		if got := custom.types.match(ct); got != want {
			t.Errorf("custom match(%q) = %v", ct, got)
		}
	}
	for ct, want := range map[string]bool{"text/css; charset=utf-8": true, "image/svg+xml": true, "image/png": false, "": false} {
		if got := TypeCompressible(ct); got != want {
			t.Errorf("TypeCompressible(%q) = %v", ct, got)
		}
	}
	for _, s := range []string{"*/*", "text/*", "application/*+json", "*/*+xml", "image/svg+xml"} {
		if err := CheckType(s); err != nil {
			t.Errorf("CheckType(%q): %v", s, err)
		}
	}
}
