package testkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Logs is an io.Writer collecting JSON log lines (as slog's JSON handler
// writes them, one record per Write). Safe for concurrent use.
type Logs struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	discard bool
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.discard {
		return len(p), nil
	}
	return l.buf.Write(p)
}

// Discard stops keeping what is written from now on (benchmarks log
// without growing memory); lines still get formatted.
func (l *Logs) Discard() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.discard = true
}

// String returns everything written so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Entry is one decoded log record: "time", "level", "msg" and the attributes.
type Entry map[string]any

// Str returns attribute k formatted as text ("" when absent).
func (e Entry) Str(k string) string {
	v, ok := e[k]
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// Entries decodes every line written so far. Lines that are not JSON are
// returned with only "raw" set.
func (l *Logs) Entries() []Entry {
	var out []Entry
	for line := range strings.Lines(l.String()) {
		var e Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			e = Entry{"raw": line}
		}
		out = append(out, e)
	}
	return out
}

// Match returns the entries with message msg ("" for any) whose attributes
// equal the given pairs ("key", value, ...), compared as fmt.Sprint text,
// so 502 matches the JSON number 502.
func (l *Logs) Match(msg string, attrs ...any) []Entry {
	var out []Entry
	for _, e := range l.Entries() {
		if msg != "" && e.Str("msg") != msg {
			continue
		}
		ok := true
		for i := 0; i+1 < len(attrs); i += 2 {
			if e.Str(fmt.Sprint(attrs[i])) != fmt.Sprint(attrs[i+1]) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, e)
		}
	}
	return out
}

// Wait polls until an entry matches (as Match) and returns the first; it
// fails the test after timeout.
func (l *Logs) Wait(t testing.TB, timeout time.Duration, msg string, attrs ...any) Entry {
	t.Helper()
	var found Entry
	Eventually(t, timeout, func() bool {
		if m := l.Match(msg, attrs...); len(m) > 0 {
			found = m[0]
			return true
		}
		return false
	}, "no log line %q with %v in:\n%s", msg, attrs, l)
	return found
}

// Eventually polls cond every few milliseconds until it returns true, and
// fails the test with the formatted message if it has not after timeout.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: "+format, append([]any{timeout}, args...)...)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
