package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/gateway"
	"github.com/gatehouse-proxy/gatehouse/middleware/cache/store"
	"github.com/gatehouse-proxy/gatehouse/reload"
	"github.com/gatehouse-proxy/gatehouse/server"
)

func defineRun(fs *flag.FlagSet) func(stdout, stderr io.Writer) int {
	path := fs.String("config", "gatehouse.yaml", "serve with the config `FILE`")
	return func(_, stderr io.Writer) int {
		cfg, err := config.LoadFile(*path)
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse: %s is not valid:\n%v\n", *path, err)
			return 1
		}
		return serve(cfg, func() (*config.Config, error) { return config.LoadFile(*path) }, *path)
	}
}

func defineValidate(fs *flag.FlagSet) func(stdout, stderr io.Writer) int {
	path := fs.String("config", "gatehouse.yaml", "check the config `FILE`")
	return func(stdout, stderr io.Writer) int {
		cfg, err := config.LoadFile(*path)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		for _, w := range cfg.Warnings() {
			fmt.Fprintf(stderr, "warning: %v\n", w)
		}
		fmt.Fprintf(stdout, "%s: ok\n", *path)
		return 0
	}
}

// serve runs Gatehouse with cfg until SIGTERM or SIGINT. load loads the
// config again on SIGHUP (and on changes of the file watchPath, when set
// and the config asks for it).
func serve(cfg *config.Config, load func() (*config.Config, error), watchPath string) int {
	// Catch signals before anything else: SIGHUP's default action is to
	// kill the process, and a supervisor may reload as soon as the port
	// answers, before startup has finished.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	level := new(slog.LevelVar)
	log, access, closeLog, err := newLogger(cfg.Log, level)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gatehouse: %v\n", err)
		return 1
	}
	defer closeLog()
	redis.SetLogger(store.RedisLog(log))
	srv := server.New(gateway.NewEnv(log, access))
	if err := srv.Apply(cfg); err != nil {
		log.Error("cannot start", "error", err)
		return 1
	}
	r := reload.New(srv, cfg, reload.Options{Load: load, File: watchPath, Log: log, Level: level})
	r.Start(context.Background())
	// Started means ready: serving, reloading on SIGHUP and watching.
	log.Info("gatehouse started", "version", versionString(), "go", goVersion())

	for sig := range sigs {
		if sig != syscall.SIGHUP {
			break
		}
		r.Reload("SIGHUP")
	}
	// No reload may apply to a server that is shutting down.
	r.Close()
	return shutdown(srv, r.Current().Limits.DrainTimeout.D(), sigs, log)
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

var _ reload.Applier = (*server.Server)(nil)
