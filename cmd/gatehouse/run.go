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
	"syscall"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/runtime"
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
	level := new(slog.LevelVar)
	log, closeLog, err := newLogger(cfg.Log, level)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gatehouse: %v\n", err)
		return 1
	}
	defer closeLog()
	env := runtime.NewEnv(log, log)
	srv := server.New(env)
	if err := srv.Apply(cfg); err != nil {
		log.Error("cannot start", "error", err)
		return 1
	}
	log.Info("gatehouse started", "version", versionString())

	apply := func(why string) {
		next, err := reload()
		if err != nil {
			log.Error("reload refused; the previous configuration keeps serving", "reason", why, "error", err)
			return
		}
		if next.Log.Format != cfg.Log.Format || next.Log.Output != cfg.Log.Output {
			log.Warn("log format and output changes take effect on restart")
		}
		level.Set(parseLevel(next.Log.Level))
		if err := srv.Apply(next); err != nil {
			log.Error("reload refused; the previous configuration keeps serving", "reason", why, "error", err)
			return
		}
		cfg = next
	}
	ctx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	if cfg.Reload.Watch && watchPath != "" {
		if err := server.Watch(ctx, watchPath, 200*time.Millisecond, log, func() { apply("file changed") }); err != nil {
			log.Warn("cannot watch the config file; reload with SIGHUP", "error", err)
		}
	}

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	for sig := range sigs {
		if sig == syscall.SIGHUP {
			apply("SIGHUP")
			continue
		}
		break
	}
	return shutdown(srv, cfg.Limits.DrainTimeout.D(), sigs, log)
}

// shutdown drains until the timeout; a second signal stops at once.
func shutdown(srv *server.Server, drain time.Duration, sigs <-chan os.Signal, log *slog.Logger) int {
	log.Info("shutting down; draining in-flight requests", "drain_timeout", drain)
	ctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	go func() {
		<-sigs
		log.Warn("second signal; closing now")
		cancel()
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
