package reload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// TestMain fails the package if a watch goroutine (or fsnotify's) outlives
// the tests: every test ends with Close, which must leave none behind.
func TestMain(m *testing.M) { os.Exit(testkit.RunCheckingLeaks(m, 5*time.Second, nil)) }

// debounce is short so the watch tests are quick; quiet is how long a
// test waits to show that nothing happens.
const (
	debounce = 20 * time.Millisecond
	quiet    = 10 * debounce
	waitMax  = 10 * time.Second
)

// fake is an Applier that records the labels of what it applied and
// refuses configs labelled "refuse". block, if not nil, holds each Apply
// until it is closed, after telling entered.
type fake struct {
	mu      sync.Mutex
	applied []string
	changed chan struct{} // receives after each Apply call
	block   chan struct{}
	entered chan struct{}
}

func newFake() *fake { return &fake{changed: make(chan struct{}, 100)} }

// blocking returns a fake whose Apply calls wait for unblock.
func blocking() (f *fake, unblock func()) {
	f = newFake()
	f.block, f.entered = make(chan struct{}), make(chan struct{}, 100)
	return f, func() { close(f.block) }
}

func (f *fake) Apply(cfg *config.Config) error {
	defer func() { f.changed <- struct{}{} }()
	if f.block != nil {
		f.entered <- struct{}{}
		<-f.block
	}
	l := label(cfg)
	if l == "refuse" {
		return errors.New("port taken")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied = append(f.applied, l)
	return nil
}

func (f *fake) labels() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.applied, " ")
}

// await waits for n more Apply calls.
func (f *fake) await(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-f.changed:
		case <-time.After(waitMax):
			t.Fatalf("no Apply within %v; applied so far: %q", waitMax, f.labels())
		}
	}
}

// site is a valid config labelled by its route's fixed answer.
func site(label string, watch bool, level string) string {
	return fmt.Sprintf(`listeners: [{address: "127.0.0.1:1"}]
log: {level: %s}
reload: {watch: %t}
routes: [{match: {path: /}, respond: {body: %s}}]
`, level, watch, label)
}

func label(cfg *config.Config) string { return cfg.Routes[0].Respond.Body }

// logs is a JSON log in memory.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines returns the records whose msg is msg.
func (l *logs) lines(msg string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(l.buf.String()) {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// await waits until n records say msg and returns them.
func (l *logs) await(t *testing.T, msg string, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(waitMax)
	for {
		recs := l.lines(msg)
		if len(recs) >= n {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d lines say %q within %v, want %d", len(recs), msg, waitMax, n)
		}
		time.Sleep(debounce / 2)
	}
}

// setup writes the config file, loads it and returns a started Reloader
// on a new fake, closed when the test ends.
func setup(t *testing.T, content string, level *slog.LevelVar) (*Reloader, *fake, *logs, string) {
	t.Helper()
	return setupOn(t, newFake(), content, level)
}

func setupOn(t *testing.T, f *fake, content string, level *slog.LevelVar) (*Reloader, *fake, *logs, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	write(t, path, content)
	cfg, err := config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l := &logs{}
	r := New(f, cfg, Options{
		Load:     func() (*config.Config, error) { return config.LoadFile(path) },
		File:     path,
		Log:      slog.New(slog.NewJSONHandler(l, nil)),
		Level:    level,
		Debounce: debounce,
	})
	r.Start(t.Context())
	t.Cleanup(func() { closeNow(t, r) })
	return r, f, l, path
}

// closeNow closes r and fails the test if a watch goroutine is left at
// the moment Close returns: Close waits for them. (fsnotify's own reader
// may still be returning then, having told its Close it is done; TestMain
// checks that it ends.)
func closeNow(t *testing.T, r *Reloader) {
	t.Helper()
	r.Close()
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "gatehouse/reload.watch") {
			t.Errorf("a goroutine outlived Close:\n%s", g)
		}
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// replace swaps in content by renaming a new file over path, as editors
// and config-management tools do.
func replace(t *testing.T, path, content string) {
	t.Helper()
	write(t, path+".tmp", content)
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

const refused = "reload refused; the previous configuration keeps serving"

// TestReload: a config that loads and applies becomes the current one (and
// sets the log level); one that does not load or is refused by the
// Applier leaves the previous one current and is logged with the reason.
func TestReload(t *testing.T) {
	for _, tc := range []struct {
		name, next string
		applies    bool   // Apply is called
		current    string // label of Current() afterwards
		level      slog.Level
		refusal    string // the logged error, "" for none
	}{
		{name: "applied", next: site("B", false, "debug"), applies: true, current: "B", level: slog.LevelDebug},
		{name: "refused by the applier", next: site("refuse", false, "debug"), applies: true, current: "A",
			level: slog.LevelWarn, refusal: "port taken"},
		{name: "not valid", next: "routes: oops\n", current: "A", level: slog.LevelWarn,
			refusal: `gatehouse.yaml:1:9: routes: expected a list, got "oops"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			level := new(slog.LevelVar)
			level.Set(slog.LevelWarn)
			r, f, l, path := setup(t, site("A", false, "warn"), level)
			write(t, path, tc.next)
			r.Reload("SIGHUP")
			if tc.applies {
				f.await(t, 1)
			}
			if got := label(r.Current()); got != tc.current {
				t.Errorf("current config %q, want %q", got, tc.current)
			}
			if level.Level() != tc.level {
				t.Errorf("log level %v, want %v", level.Level(), tc.level)
			}
			recs := l.lines(refused)
			switch {
			case tc.refusal == "" && len(recs) > 0:
				t.Errorf("refusal logged: %v", recs)
			case tc.refusal != "" && len(recs) != 1:
				t.Errorf("%d refusals logged, want 1", len(recs))
			case tc.refusal != "":
				if e, _ := recs[0]["error"].(string); !strings.HasSuffix(e, tc.refusal) || recs[0]["reason"] != "SIGHUP" || recs[0]["level"] != "ERROR" {
					t.Errorf("refusal logged as %v, want level ERROR, reason SIGHUP and an error ending in %q", recs[0], tc.refusal)
				}
			}
		})
	}
}

// TestWatchFollowsConfig: with reload.watch off, a change of the file is
// not loaded; a reload that turns it on starts watching, and one that
// turns it off (here the watch's own) stops it.
func TestWatchFollowsConfig(t *testing.T) {
	r, f, l, path := setup(t, site("A", false, "info"), nil)
	write(t, path, site("B", false, "info"))
	time.Sleep(quiet)
	if got := f.labels(); got != "" {
		t.Fatalf("applied %q with reload.watch off", got)
	}

	write(t, path, site("C", true, "info"))
	r.Reload("SIGHUP")
	f.await(t, 1)
	if n := len(l.lines("watching the config file")); n != 1 {
		t.Fatalf("%d lines say watching, want 1", n)
	}
	write(t, path, site("D", false, "info")) // applied by the watch, which it stops
	l.await(t, "stopped watching the config file", 1)
	write(t, path, site("E", true, "info"))
	time.Sleep(quiet)
	if got := f.labels(); got != "C D" {
		t.Errorf("applied %q, want %q: the file was loaded after watching stopped", got, "C D")
	}
}

// TestWatchReloadsOnce: a file replaced by rename, or written several
// times in quick succession, is loaded once, after the writes settle; a
// bad write is refused and logged; other files in the directory are
// ignored.
func TestWatchReloadsOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, path string)
		want   string // labels applied
	}{
		{"replaced by rename", func(t *testing.T, path string) { replace(t, path, site("B", true, "info")) }, "B"},
		{"written in place", func(t *testing.T, path string) { write(t, path, site("B", true, "info")) }, "B"},
		{"written three times", func(t *testing.T, path string) {
			for _, l := range []string{"B", "C", "D"} {
				write(t, path, site(l, true, "info"))
			}
		}, "D"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, f, _, path := setup(t, site("A", true, "info"), nil)
			tc.change(t, path)
			f.await(t, 1)
			time.Sleep(quiet)
			if got := f.labels(); got != tc.want {
				t.Errorf("applied %q, want %q once", got, tc.want)
			}
			if got := label(r.Current()); got != tc.want {
				t.Errorf("current config %q, want %q", got, tc.want)
			}
		})
	}

	t.Run("refused and other files", func(t *testing.T) {
		r, f, l, path := setup(t, site("A", true, "info"), nil)
		write(t, filepath.Join(filepath.Dir(path), "other.yaml"), "not the config\n")
		replace(t, path, "routes: oops\n")
		l.await(t, refused, 1)
		time.Sleep(quiet)
		recs := l.lines(refused)
		if len(recs) != 1 || recs[0]["reason"] != "file changed" {
			t.Fatalf("refusals logged: %v, want one with reason \"file changed\"", recs)
		}
		if got := f.labels(); got != "" || label(r.Current()) != "A" {
			t.Errorf("applied %q, current %q; want nothing applied and A current", got, label(r.Current()))
		}
	})
}

// TestCloseWaits: Close waits for a reload the watch has under way, and
// nothing is loaded after it.
func TestCloseWaits(t *testing.T) {
	f, unblock := blocking()
	r, _, _, path := setupOn(t, f, site("A", true, "info"), nil)
	write(t, path, site("B", true, "info"))
	select { // the watch's reload is inside Apply
	case <-f.entered:
	case <-time.After(waitMax):
		t.Fatal("the change was not loaded")
	}
	closed := make(chan struct{})
	go func() {
		closeNow(t, r)
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while a reload was under way")
	case <-time.After(quiet):
	}
	unblock()
	f.await(t, 1)
	select {
	case <-closed:
	case <-time.After(waitMax):
		t.Fatal("Close did not return after the reload ended")
	}

	write(t, path, site("C", true, "info"))
	r.Reload("SIGHUP")
	time.Sleep(quiet)
	if got := f.labels(); got != "B" {
		t.Errorf("applied %q, want only B: nothing may load after Close", got)
	}
}

// TestStopsWithContext: the watch also ends when Start's context does.
func TestStopsWithContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gatehouse.yaml")
	write(t, path, site("A", true, "info"))
	cfg, err := config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f := newFake()
	r := New(f, cfg, Options{Load: func() (*config.Config, error) { return config.LoadFile(path) }, File: path, Debounce: debounce,
		Log: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	r.Start(ctx)
	cancel()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(waitMax):
		t.Fatal("the watch goroutine outlived Start's context")
	}
	write(t, path, site("B", true, "info"))
	time.Sleep(quiet)
	if got := f.labels(); got != "" {
		t.Errorf("applied %q after the context ended", got)
	}
	closeNow(t, r)
}

// TestNoFile: without a file (the demo) nothing is watched, whatever the
// config says, and Reload still applies.
func TestNoFile(t *testing.T) {
	cfg, err := config.Load([]byte(site("A", true, "info")), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	next, _ := config.Load([]byte(site("B", true, "info")), "", nil)
	f, l := newFake(), &logs{}
	r := New(f, cfg, Options{Load: func() (*config.Config, error) { return next, nil }, Log: slog.New(slog.NewJSONHandler(l, nil))})
	r.Start(t.Context())
	defer closeNow(t, r)
	r.Reload("SIGHUP")
	f.await(t, 1)
	if n := len(l.lines("watching the config file")); n != 0 || label(r.Current()) != "B" {
		t.Errorf("%d lines say watching, current %q; want 0 and B", n, label(r.Current()))
	}
}
