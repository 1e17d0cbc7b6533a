package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/gatehouse-proxy/gatehouse/config"
)

// newLogger builds the logger for cfg and the access logger beside it,
// both writing to cfg's output at the same level. The level is variable so
// a reload can change it. Durations are written as seconds in JSON (see
// secondsInJSON) and as Go duration strings ("1.5s") in text.
//
// The access logger has no ReplaceAttr: the access log writes its duration
// as seconds itself, and a ReplaceAttr would cost every request's line an
// allocation and about a microsecond (the JSON handler then marshals the
// level through encoding/json). The two handlers' lines do not interleave:
// each is one Write, and an *os.File serializes its Writes.
func newLogger(c config.Log, level *slog.LevelVar) (log, access *slog.Logger, closeFn func(), err error) {
	level.Set(parseLevel(c.Level))
	out := os.Stdout
	closeFn = func() {}
	switch c.Output {
	case "", "stdout":
	case "stderr":
		out = os.Stderr
	default:
		f, err := os.OpenFile(c.Output, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("open log output: %w", err)
		}
		out, closeFn = f, func() { f.Close() }
	}
	if c.Format == "text" {
		// The text handler already writes a duration as its String form.
		h := slog.NewTextHandler(out, &slog.HandlerOptions{Level: level})
		return slog.New(h), slog.New(h), closeFn, nil
	}
	log = slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: level, ReplaceAttr: secondsInJSON}))
	access = slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: level}))
	return log, access, closeFn, nil
}

// secondsInJSON writes a duration as a number of seconds (0.0017), which
// log tools read as a number in a unit they know, rather than as the JSON
// handler's integer nanoseconds (1700000).
func secondsInJSON(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.Float64(a.Key, a.Value.Duration().Seconds())
	}
	return a
}

func parseLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}
