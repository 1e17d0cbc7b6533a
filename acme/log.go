package acme

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// zapLogger returns a zap logger (what certmagic logs through) that writes
// to log. certmagic narrates every step at info level, so its info lines
// become debug lines here; what an operator must see is logged by onEvent.
func zapLogger(log *slog.Logger) *zap.Logger {
	return zap.New(&slogCore{h: log.Handler()})
}

// slogCore is a zapcore.Core writing each entry as one slog record.
type slogCore struct {
	h      slog.Handler
	fields []zapcore.Field
}

func slogLevel(l zapcore.Level) slog.Level {
	switch {
	case l < zapcore.WarnLevel:
		return slog.LevelDebug
	case l == zapcore.WarnLevel:
		return slog.LevelWarn
	}
	return slog.LevelError
}

func (c *slogCore) Enabled(l zapcore.Level) bool {
	return c.h.Enabled(context.Background(), slogLevel(l))
}

func (c *slogCore) With(fields []zapcore.Field) zapcore.Core {
	return &slogCore{h: c.h, fields: append(slices.Clip(c.fields), fields...)}
}

func (c *slogCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *slogCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range c.fields {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	r := slog.NewRecord(e.Time, slogLevel(e.Level), e.Message, 0)
	component := "certmagic"
	if name := strings.Trim(e.LoggerName, "."); name != "" {
		component += "." + name
	}
	r.AddAttrs(slog.String("component", component))
	keys := make([]string, 0, len(enc.Fields))
	for k := range enc.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		r.AddAttrs(slog.Any(k, enc.Fields[k]))
	}
	return c.h.Handle(context.Background(), r)
}

func (c *slogCore) Sync() error { return nil }

var _ zapcore.Core = (*slogCore)(nil)

// Events certmagic emits that onEvent logs.
const (
	eventObtaining = "cert_obtaining"
	eventObtained  = "cert_obtained"
	eventFailed    = "cert_failed"
)

func shouldEmit(event string) bool {
	return event == eventObtaining || event == eventObtained || event == eventFailed
}

// onEvent logs, in Gatehouse's own words, each certificate obtained or
// renewed and each attempt that failed with the reason. certmagic retries
// failures with backoff, so a failed line is followed by another attempt.
func (m *Manager) onEvent(storage, event string, data map[string]any) error {
	domain, _ := data["identifier"].(string)
	renewal, _ := data["renewal"].(bool)
	switch event {
	case eventObtaining:
		m.log.Debug("acme requesting certificate", "domain", domain, "renewal", renewal)
	case eventObtained:
		msg := "acme certificate obtained"
		if renewal {
			msg = "acme certificate renewed"
		}
		path, _ := data["certificate_path"].(string)
		m.log.Info(msg, "domain", domain, "issuer", data["issuer"],
			"file", filepath.Join(storage, filepath.FromSlash(path)))
	case eventFailed:
		err, _ := data["error"].(error)
		m.log.Error("acme certificate failed; retrying with backoff", "domain", domain,
			"renewal", renewal, "error", err)
	}
	return nil
}
