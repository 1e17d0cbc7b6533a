package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
)

// TestLoggerDurations: every duration attribute is a number of seconds in
// JSON and a Go duration string in text, also inside a group.
func TestLoggerDurations(t *testing.T) {
	for _, tc := range []struct {
		format string
		want   []string // substrings of the line
	}{
		{"json", []string{`"drain_timeout":30,`, `"took":0.001788`, `"g":{"inner":1.5}`, `"n":7`}},
		{"text", []string{"drain_timeout=30s ", "took=1.788ms ", "g.inner=1.5s ", "n=7"}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log")
			log, _, closeLog, err := newLogger(config.Log{Format: tc.format, Level: "info", Output: path}, new(slog.LevelVar))
			if err != nil {
				t.Fatal(err)
			}
			log.Info("x", "drain_timeout", 30*time.Second, slog.Duration("took", 1788*time.Microsecond),
				slog.Group("g", slog.Duration("inner", 1500*time.Millisecond)), "n", 7)
			closeLog()
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("line %s lacks %s", b, w)
				}
			}
		})
	}
}

// TestJSONLogDurations: in the real process's JSON log, the access log's
// duration and the lifecycle lines' drain_timeout are seconds, as numbers.
func TestJSONLogDurations(t *testing.T) {
	be := newBackend(t, "blue")
	p, addr := startRun(t, t.TempDir(), func(a string) string {
		return fmt.Sprintf(`listeners: [{address: %q}]
log: {access: true}
limits: {drain_timeout: 1500ms}
upstreams: {pool: {targets: [%s]}}
routes: [{match: {path: /}, upstream: pool}]
`, a, be.url)
	})
	if status, _, _, _ := get(t, "http://"+addr+"/hello"); status != 200 {
		t.Fatalf("GET /hello = %d, want 200", status)
	}
	rec := p.waitFor("request", "path", "/hello")
	d, ok := rec.m["duration"].(float64)
	if !ok || d <= 0 || d >= waitLimit.Seconds() || !strings.Contains(rec.raw, `"duration":`) {
		t.Errorf(`access log duration %v (%T), want a positive number of seconds below %v: %s`,
			rec.m["duration"], rec.m["duration"], waitLimit.Seconds(), rec.raw)
	}

	checkREADMEFields(t, rec)

	p.signal(syscall.SIGTERM)
	rec = p.waitMsg("shutting down; draining in-flight requests", 1)
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(rec.raw), &m); err != nil {
		t.Fatal(err)
	}
	if got := string(m["drain_timeout"]); got != "1.5" {
		t.Errorf("drain_timeout written as %s, want 1.5 (seconds): %s", got, rec.raw)
	}
	if code := p.waitExit(waitLimit); code != 0 {
		t.Errorf("gatehouse %s after SIGTERM, want exit code 0", describeExit(code))
	}
}

// checkREADMEFields holds the README's table of access-log fields, and its
// example line, to a line the process wrote: the same fields, except those
// the table says appear only sometimes.
func checkREADMEFields(t *testing.T, line record) {
	t.Helper()
	readme := readFile(t, "../../README.md")
	_, table, ok := strings.Cut(readme, "| field | type | meaning |\n|---|---|---|\n")
	if !ok {
		t.Fatal("README.md has no access-log field table")
	}
	table, _, _ = strings.Cut(table, "\n\n")
	documented := map[string]bool{} // field: always present
	for row := range strings.Lines(table) {
		cells := strings.Split(row, " | ")
		if len(cells) != 3 {
			t.Fatalf("README.md: access-log table row %q has not 3 cells", row)
		}
		documented[strings.Trim(cells[0], "|` ")] = !strings.HasPrefix(cells[2], "only ")
	}
	for k := range line.m {
		if _, ok := documented[k]; !ok {
			t.Errorf("access-log field %q is not in README.md's table", k)
		}
	}
	_, example, _ := strings.Cut(readme, "A JSON line:\n\n```json\n")
	example, _, _ = strings.Cut(example, "\n```")
	var ex map[string]any
	if err := json.Unmarshal([]byte(example), &ex); err != nil {
		t.Fatalf("README.md's example access-log line: %v", err)
	}
	for k, always := range documented {
		if _, ok := line.m[k]; always && !ok {
			t.Errorf("README.md's table lists %q, which the access log does not write", k)
		}
		if _, ok := ex[k]; always != ok {
			t.Errorf("README.md's example line has %q: %v, want %v", k, ok, always)
		}
	}
	if _, ok := ex["duration"].(float64); !ok {
		t.Errorf("README.md's example duration %v is not a number", ex["duration"])
	}
}
