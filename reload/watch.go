package reload

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watch calls onChange when the file at path is written, created or
// replaced, until ctx is done. It watches the directory, because editors
// and config-management tools replace files by renaming, and waits for
// writes to settle (debounce) so a half-written file is not loaded.
//
// The watch runs on a goroutine added to wg, which ends (and releases the
// inotify watch) once ctx is done and onChange, if running, has returned.
// onChange runs on that goroutine, so it must not wait for wg.
func watch(ctx context.Context, wg *sync.WaitGroup, path string, debounce time.Duration, log *slog.Logger, onChange func()) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	if err := w.Add(filepath.Dir(abs)); err != nil {
		w.Close()
		return fmt.Errorf("watch %s: %w", filepath.Dir(abs), err)
	}
	wg.Go(func() {
		defer w.Close()
		var timer *time.Timer
		var fire <-chan time.Time
		defer func() {
			if timer != nil {
				timer.Stop()
			}
		}()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				if filepath.Clean(ev.Name) != abs || ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename) == 0 {
					continue
				}
				if timer == nil {
					timer = time.NewTimer(debounce)
				} else {
					timer.Reset(debounce)
				}
				fire = timer.C
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				log.Warn("watching the config file failed", "file", path, "error", err)
			case <-fire:
				fire = nil
				if ctx.Err() != nil {
					return // Close won the race with the timer: no reload after it
				}
				onChange()
			}
		}
	})
	return nil
}
