package tlsx

import (
	"context"
	"crypto/sha256"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

const (
	// settle is how long a certificate's directory must be quiet before
	// its files are read again: tools write a cert and its key as separate
	// steps, usually within milliseconds.
	settle = 200 * time.Millisecond
	// retryAfter is when a pair that did not load is tried once more
	// before the failure is logged, for a slower two-step writer.
	retryAfter = time.Second
)

// watcher reloads the certificates of one plan when their files change.
type watcher struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func (w *watcher) close() {
	w.cancel()
	<-w.done
}

// startWatch watches the directories of p's files (not the files: editors
// and certificate tools replace files by renaming, and Kubernetes swaps a
// symlinked directory) until the watcher is closed.
func (m *Manager) startWatch(p *Plan) *watcher {
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{cancel: cancel, done: make(chan struct{})}
	byDir := make(map[string][]*slot)
	for _, s := range p.certs {
		for _, f := range []string{s.files.cert, s.files.key} {
			d := filepath.Dir(f)
			if l := byDir[d]; len(l) == 0 || l[len(l)-1] != s {
				byDir[d] = append(byDir[d], s)
			}
		}
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		m.log.Error("cannot watch certificate files; changes need a reload", "error", err)
		close(w.done)
		return w
	}
	for d := range byDir {
		if err := fw.Add(d); err != nil {
			m.log.Error("cannot watch a certificate directory; changes there need a reload", "dir", d, "error", err)
		}
	}
	go m.watchLoop(ctx, w.done, fw, p, byDir)
	return w
}

func (m *Manager) watchLoop(ctx context.Context, done chan struct{}, fw *fsnotify.Watcher, p *Plan, byDir map[string][]*slot) {
	defer close(done)
	defer fw.Close()
	// attempts counts the failed loads of each changed pair.
	attempts := make(map[*slot]int, len(p.certs))
	for _, s := range p.certs {
		attempts[s] = 0 // files may have changed since Prepare read them
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-fw.Events:
			if !ok {
				return
			}
			if ev.Op&(fsnotify.Create|fsnotify.Write|fsnotify.Rename|fsnotify.Remove) == 0 {
				continue
			}
			for _, s := range byDir[filepath.Dir(ev.Name)] {
				attempts[s] = 0
			}
			timer.Reset(settle)
		case err, ok := <-fw.Errors:
			if !ok {
				return
			}
			m.log.Warn("watching certificate files failed", "error", err)
		case <-timer.C:
			if m.reload(p, attempts) {
				timer.Reset(retryAfter)
			}
		}
	}
}

// reload loads each pair in attempts again, swaps in those that changed
// and load, and rebuilds p's index. A pair that fails is kept for one retry,
// then logged. It reports whether a retry is due.
func (m *Manager) reload(p *Plan, attempts map[*slot]int) (retry bool) {
	changed := false
	for s, n := range attempts {
		pr, sum, err := m.reloadSlot(s)
		switch {
		case err == nil:
			delete(attempts, s)
			if pr != nil {
				s.cur.Store(pr)
				changed = true
				m.log.Info("certificate reloaded", "cert", s.files.cert, "names", pr.names,
					"not_after", pr.cert.Leaf.NotAfter)
			}
		case n == 0:
			attempts[s] = 1
			retry = true
		default:
			delete(attempts, s)
			s.bad = sum // not logged again until the files change
			m.log.Error("certificate files changed but cannot be used; still serving the previous certificate",
				"cert", s.files.cert, "key", s.files.key, "error", err)
		}
	}
	if changed {
		p.idx.Store(buildIndex(p.certs))
	}
	return retry
}

// reloadSlot reads s's files and returns the new pair, nil when the
// content is the one in use or was already reported as unusable, and the
// hash of the content read.
func (m *Manager) reloadSlot(s *slot) (*pair, [sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	certPEM, keyPEM, err := readPair(s.files)
	if err != nil {
		return nil, sum, err
	}
	h := sha256.New()
	h.Write(certPEM)
	h.Write(keyPEM)
	h.Sum(sum[:0])
	if sum == s.cur.Load().hash || sum == s.bad {
		return nil, sum, nil
	}
	pr, err := parsePair(s.files, certPEM, keyPEM, m.now())
	return pr, sum, err
}
