// Package reload keeps a running server on the newest valid
// configuration. A Reloader loads the configuration again when asked (main
// asks on SIGHUP) and, while the configuration in use says reload.watch,
// when its file changes on disk. It applies one configuration at a time; one
// that fails to load or to apply is refused with the reason logged, and the
// previous one keeps serving.
package reload

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
)

// Applier is what a Reloader keeps up to date; *server.Server is one.
// Apply switches to cfg, or returns an error and leaves the configuration
// in force as it was. The Reloader never calls it concurrently.
type Applier interface {
	Apply(cfg *config.Config) error
}

// Options configure a Reloader.
type Options struct {
	// Load reads the configuration again. Required.
	Load func() (*config.Config, error)
	// File is the configuration file, watched while the configuration in
	// use sets reload.watch. "" never watches (the demo has no file).
	File string
	// Log receives refusals (error), watch changes (info) and watch
	// failures (warn). Nil means slog.Default().
	Log *slog.Logger
	// Level, if not nil, is set to log.level of each applied configuration.
	Level *slog.LevelVar
	// Debounce is how long the file must be quiet after a change before
	// it is loaded, so a half-written file is not. Zero means 200ms.
	Debounce time.Duration
}

// Reloader applies new configurations to an Applier, from Reload calls and
// from the file watch, one at a time. Start it once, Close it once it is no
// longer wanted; Reload and Current may be called at any time, also
// concurrently.
type Reloader struct {
	app  Applier
	opts Options
	wg   sync.WaitGroup // the watch goroutines; Close waits for them

	mu        sync.Mutex // held for a whole reload, so reloads queue
	cfg       *config.Config
	ctx       context.Context    // from Start; nil before
	stopWatch context.CancelFunc // nil while not watching
	closed    bool
}

// New returns a Reloader for app, which serves current.
func New(app Applier, current *config.Config, opts Options) *Reloader {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 200 * time.Millisecond
	}
	return &Reloader{app: app, opts: opts, cfg: current}
}

// Start starts watching the file if the current configuration asks for
// it. The watch ends when ctx is done or on Close. Only the first call
// does anything.
func (r *Reloader) Start(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx != nil || r.closed {
		return
	}
	r.ctx = ctx
	r.setWatch(r.cfg.Reload.Watch)
}

// Close stops watching and waits until the watch goroutines have ended,
// including a reload one of them has under way. Reload does nothing after
// Close. Close must not be called from the Applier.
func (r *Reloader) Close() {
	r.mu.Lock()
	r.closed = true
	if r.stopWatch != nil {
		r.stopWatch()
		r.stopWatch = nil
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// Current returns the configuration in use: the one given to New or the
// last one applied.
func (r *Reloader) Current() *config.Config {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cfg
}

// Reload loads the configuration again and applies it; why says what asked
// for it ("SIGHUP", "file changed") in the log. On any error the previous
// configuration keeps serving, unchanged, and the refusal is logged.
func (r *Reloader) Reload(why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	log := r.opts.Log
	next, err := r.opts.Load()
	if err != nil {
		log.Error("reload refused; the previous configuration keeps serving", "reason", why, "error", err)
		return
	}
	if next.Log.Format != r.cfg.Log.Format || next.Log.Output != r.cfg.Log.Output {
		log.Warn("log format and output changes take effect on restart")
	}
	if err := r.app.Apply(next); err != nil {
		log.Error("reload refused; the previous configuration keeps serving", "reason", why, "error", err)
		return
	}
	if r.opts.Level != nil {
		// Validated by config; an unknown level would leave it unchanged.
		_ = r.opts.Level.UnmarshalText([]byte(next.Log.Level))
	}
	r.cfg = next
	r.setWatch(next.Reload.Watch)
}

// setWatch starts or stops watching the file. Called with mu held. It
// never waits for a watch goroutine to end: it may run on one.
func (r *Reloader) setWatch(on bool) {
	if r.opts.File == "" || r.ctx == nil || r.closed || on == (r.stopWatch != nil) {
		return
	}
	log := r.opts.Log
	if !on {
		r.stopWatch()
		r.stopWatch = nil
		log.Info("stopped watching the config file", "file", r.opts.File)
		return
	}
	ctx, cancel := context.WithCancel(r.ctx)
	if err := watch(ctx, &r.wg, r.opts.File, r.opts.Debounce, log, func() { r.Reload("file changed") }); err != nil {
		cancel()
		log.Warn("cannot watch the config file; reload with SIGHUP", "error", err)
		return
	}
	r.stopWatch = cancel
	log.Info("watching the config file", "file", r.opts.File)
}
