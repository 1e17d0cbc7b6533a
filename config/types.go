package config

import (
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration written as "5s", "250ms" or "1h30m". A bare
// number other than 0 is rejected: "30" could mean seconds or milliseconds.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d like time.Duration does ("1m30s").
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes d as Load reads it ("1m30s"), so a Config marshalled
// to YAML or JSON reads back unchanged.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Size is a byte count written as a plain number or with a unit: "512",
// "64KiB", "10MiB", "1GiB" (binary) or "10KB", "10MB", "1GB" (decimal); B
// and TB/TiB work too, units are case-insensitive, and negative sizes are
// rejected.
type Size int64

// Strings is a list of strings that may also be written as one scalar,
// which makes a list of one.
type Strings []string

// Pos is a position in a config file.
type Pos struct {
	Line, Col int
}

// Problem is one thing wrong with a config, located in its file.
type Problem struct {
	File string
	Pos  Pos
	// Path names the setting, e.g. "routes[2].upstream"; empty for syntax
	// errors.
	Path string
	Msg  string
}

// Error formats p as "file:line:col: path: msg", leaving out the parts that
// are unknown (no file, no line, column 0, no path).
func (p Problem) Error() string {
	loc := p.File
	if p.Pos.Line > 0 {
		if loc != "" {
			loc += ":"
		}
		loc += strconv.Itoa(p.Pos.Line)
		if p.Pos.Col > 0 {
			loc += ":" + strconv.Itoa(p.Pos.Col)
		}
	}
	var parts []string
	for _, s := range []string{loc, p.Path, p.Msg} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ": ")
}
