package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/gateway"
	"github.com/gatehouse-proxy/gatehouse/server"
)

func run(args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	path := fs.String("config", "gatehouse.yaml", "config file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := config.LoadFile(*path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gatehouse: %s is not valid:\n%v\n", *path, err)
		return 1
	}
	return serve(cfg, func() (*config.Config, error) { return config.LoadFile(*path) }, *path)
}

func validate(args []string) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	path := fs.String("config", "gatehouse.yaml", "config file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if _, err := config.LoadFile(*path); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("%s: ok\n", *path)
	return 0
}

// serve runs Gatehouse with cfg until SIGTERM or SIGINT. reload loads the
// config again on SIGHUP (and on file changes when watchPath is set and
// the config asks for it).
func serve(cfg *config.Config, reload func() (*config.Config, error), watchPath string) int {
	// Catch signals before anything else: SIGHUP's default action is to
	// kill the process, and a supervisor may reload as soon as the port
	// answers, before startup has finished.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	level := new(slog.LevelVar)
	log, closeLog, err := newLogger(cfg.Log, level)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gatehouse: %v\n", err)
		return 1
	}
	defer closeLog()
	env := gateway.NewEnv(log, log)
	srv := server.New(env)
	if err := srv.Apply(cfg); err != nil {
		log.Error("cannot start", "error", err)
		return 1
	}
	r := &reloader{srv: srv, load: reload, watchPath: watchPath, level: level, log: log, cfg: cfg}
	r.start()
	defer r.close()
	// Started means ready: serving, reloading on SIGHUP and watching.
	log.Info("gatehouse started", "version", versionString())

	for sig := range sigs {
		if sig == syscall.SIGHUP {
			r.apply("SIGHUP")
			continue
		}
		break
	}
	return shutdown(srv, r.drainTimeout(), sigs, log)
}

// reloader applies new configs, one at a time, from SIGHUP and from the
// file watcher, and keeps the watcher in step with reload.watch.
type reloader struct {
	srv       *server.Server
	load      func() (*config.Config, error)
	watchPath string // "" never watches
	level     *slog.LevelVar
	log       *slog.Logger

	mu        sync.Mutex
	cfg       *config.Config     // the configuration in use
	stopWatch context.CancelFunc // nil while not watching
}

func (r *reloader) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.setWatch(r.cfg.Reload.Watch)
}

// close stops watching.
func (r *reloader) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopWatch != nil {
		r.stopWatch()
		r.stopWatch = nil
	}
}

func (r *reloader) drainTimeout() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cfg.Limits.DrainTimeout.D()
}

// apply loads the config again and switches to it; on any error the
// previous configuration keeps serving, unchanged.
func (r *reloader) apply(why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	next, err := r.load()
	if err != nil {
		r.log.Error("reload refused; the previous configuration keeps serving", "reason", why, "error", err)
		return
	}
	if next.Log.Format != r.cfg.Log.Format || next.Log.Output != r.cfg.Log.Output {
		r.log.Warn("log format and output changes take effect on restart")
	}
	if err := r.srv.Apply(next); err != nil {
		r.log.Error("reload refused; the previous configuration keeps serving", "reason", why, "error", err)
		return
	}
	r.level.Set(parseLevel(next.Log.Level))
	r.cfg = next
	r.setWatch(next.Reload.Watch)
}

// setWatch starts or stops watching the config file. Called with mu held.
func (r *reloader) setWatch(on bool) {
	if r.watchPath == "" || on == (r.stopWatch != nil) {
		return
	}
	if !on {
		r.stopWatch()
		r.stopWatch = nil
		r.log.Info("stopped watching the config file", "file", r.watchPath)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := server.Watch(ctx, r.watchPath, 200*time.Millisecond, r.log, func() { r.apply("file changed") }); err != nil {
		cancel()
		r.log.Warn("cannot watch the config file; reload with SIGHUP", "error", err)
		return
	}
	r.stopWatch = cancel
	r.log.Info("watching the config file", "file", r.watchPath)
}

// shutdown drains until the timeout; a second SIGTERM or SIGINT stops at
// once. SIGHUP is ignored: log rotation sends it, and it must not cut the
// drain short.
func shutdown(srv *server.Server, drain time.Duration, sigs <-chan os.Signal, log *slog.Logger) int {
	log.Info("shutting down; draining in-flight requests", "drain_timeout", drain)
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	go func() {
		for sig := range sigs {
			if sig == syscall.SIGHUP {
				log.Warn("SIGHUP while shutting down; not reloading")
				continue
			}
			log.Warn("second signal; closing now")
			cancel()
			return
		}
	}()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("drain timed out; remaining connections closed", "error", err)
	}
	log.Info("stopped")
	return 0
}

// newLogger builds the logger for cfg. The level is variable so a reload
// can change it.
func newLogger(c config.Log, level *slog.LevelVar) (*slog.Logger, func(), error) {
	level.Set(parseLevel(c.Level))
	var out io.Writer = os.Stdout
	closeFn := func() {}
	switch c.Output {
	case "", "stdout":
	case "stderr":
		out = os.Stderr
	default:
		f, err := os.OpenFile(c.Output, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return nil, nil, fmt.Errorf("open log output: %w", err)
		}
		out, closeFn = f, func() { f.Close() }
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(out, opts)), closeFn, nil
	}
	return slog.New(slog.NewJSONHandler(out, opts)), closeFn, nil
}

func parseLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
