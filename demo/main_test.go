package demo_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// binary is the gatehouse binary, built once by TestMain, so the demo is
// tested exactly as `gatehouse demo` runs it.
var binary string

// TestMain builds the binary, race-instrumented when the tests are, so
// that the real process is checked for data races too.
func TestMain(m *testing.M) {
	path, cleanup, err := testkit.BuildBinary(testkit.RaceEnabled(), "")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = path
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// waitLimit bounds every wait for the demo process.
const waitLimit = 20 * time.Second

// demoProc is a running `gatehouse demo`. Its stdout (the try-me text,
// then the text log) is collected line by line.
type demoProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT

	mu      sync.Mutex
	lines   []string
	stderr  bytes.Buffer
	changed chan struct{} // closed and replaced on every line and at exit
	exited  bool
}

// startDemo runs `gatehouse demo` on a free loopback port and waits until
// it has started. When the test ends it stops the demo with SIGTERM and
// requires a clean exit without a data race.
func startDemo(t *testing.T) *demoProc {
	t.Helper()
	for try := 0; ; try++ {
		d := launch(t)
		d.await("the demo to start", func() bool {
			return d.exited || d.indexLocked(`msg="gatehouse started"`) >= 0
		})
		if !d.hasExited() {
			t.Cleanup(d.stop)
			return d
		}
		if try < 3 && strings.Contains(d.output(), "address already in use") {
			continue
		}
		t.Fatalf("gatehouse demo did not start; output:\n%s", d.output())
	}
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func launch(t *testing.T) *demoProc {
	t.Helper()
	addr := freeAddr(t)
	d := &demoProc{t: t, base: "http://" + addr, changed: make(chan struct{})}
	d.cmd = exec.Command(binary, "demo", "-listen", addr)
	d.cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	stdout, err := d.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	d.cmd.Stderr = &lockedWriter{d}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			d.mu.Lock()
			d.lines = append(d.lines, sc.Text())
			d.notifyLocked()
			d.mu.Unlock()
		}
		d.cmd.Wait()
		d.mu.Lock()
		d.exited = true
		d.notifyLocked()
		d.mu.Unlock()
	}()
	return d
}

// lockedWriter collects stderr under the process's lock.
type lockedWriter struct{ d *demoProc }

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.d.mu.Lock()
	defer w.d.mu.Unlock()
	return w.d.stderr.Write(p)
}

func (d *demoProc) notifyLocked() {
	close(d.changed)
	d.changed = make(chan struct{})
}

func (d *demoProc) hasExited() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.exited
}

func (d *demoProc) indexLocked(substr string) int {
	for i, l := range d.lines {
		if strings.Contains(l, substr) {
			return i
		}
	}
	return -1
}

func (d *demoProc) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.lines, "\n") + "\nstderr:\n" + d.stderr.String()
}

// await waits until cond (called with the lock held) holds.
func (d *demoProc) await(what string, cond func() bool) {
	d.t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		d.mu.Lock()
		ok, ch := cond(), d.changed
		d.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			d.t.Fatalf("no %s within %v; output:\n%s", what, waitLimit, d.output())
		}
	}
}

// stop ends the demo with SIGTERM; it must exit 0, without a race report.
func (d *demoProc) stop() {
	d.t.Helper()
	if !d.hasExited() {
		d.cmd.Process.Signal(syscall.SIGTERM)
		d.await("exit after SIGTERM", func() bool { return d.exited })
	}
	if st := d.cmd.ProcessState; st == nil || !st.Success() {
		d.t.Errorf("gatehouse demo ended with %v, want exit status 0; output:\n%s", st, d.output())
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if s := d.stderr.String(); strings.Contains(s, "DATA RACE") || strings.Contains(s, "panic:") {
		d.t.Errorf("gatehouse demo reported a race or a panic:\n%s", s)
	}
}

// command is one line of the demo's "Try:" list.
type command struct {
	key     string // the command with the base URL left out: "curl -i /ws"
	tool    string // curl or open
	method  string // -X; empty for GET
	headers [][2]string
	data    string // -d
	url     string
	desc    string
}

// tryList parses the commands the demo printed between "Try:" and the
// blank line after them; a line ending in \ continues on the next.
func (d *demoProc) tryList() []command {
	d.t.Helper()
	d.mu.Lock()
	lines := append([]string(nil), d.lines...)
	d.mu.Unlock()
	start := -1
	for i, l := range lines {
		if l == "Try:" {
			start = i + 1
			break
		}
	}
	if start < 0 {
		d.t.Fatalf("the demo printed no \"Try:\" list; output:\n%s", d.output())
	}
	var joined []string
	for _, l := range lines[start:] {
		if strings.TrimSpace(l) == "" {
			break
		}
		if n := len(joined); n > 0 && strings.HasSuffix(joined[n-1], `\`) {
			joined[n-1] = strings.TrimSuffix(joined[n-1], `\`) + " " + strings.TrimSpace(l)
			continue
		}
		joined = append(joined, strings.TrimSpace(l))
	}
	var cmds []command
	for _, l := range joined {
		c, err := parseCommand(l, d.base)
		if err != nil {
			d.t.Fatalf("cannot read the printed command %q: %v", l, err)
		}
		cmds = append(cmds, c)
	}
	return cmds
}

// parseCommand reads "curl [-i] [-N] [-X METHOD] [-H 'Name: value']... [-d DATA] URL  description"
// or "open URL  description".
func parseCommand(line, base string) (command, error) {
	words, err := shellWords(line)
	if err != nil {
		return command{}, err
	}
	var c command
	keyParts := []string{}
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case i == 0:
			c.tool = w
			keyParts = append(keyParts, w)
		case strings.HasPrefix(w, base):
			c.url = w
			c.desc = strings.Join(words[i+1:], " ")
			keyParts = append(keyParts, strings.TrimPrefix(w, base))
			c.key = strings.Join(keyParts, " ")
			if c.tool != "curl" && c.tool != "open" {
				return c, fmt.Errorf("unknown tool %q", c.tool)
			}
			if c.desc == "" {
				return c, errors.New("no description")
			}
			return c, nil
		case w == "-H" && i+1 < len(words):
			name, value, ok := strings.Cut(words[i+1], ": ")
			if !ok {
				return c, fmt.Errorf("header %q", words[i+1])
			}
			c.headers = append(c.headers, [2]string{name, value})
			if strings.HasPrefix(value, "Bearer ey") {
				// A token the demo signed this run: the same command
				// every run, whatever the token.
				keyParts = append(keyParts, "-H", "'"+name+": Bearer TOKEN'")
				i++
				continue
			}
			keyParts = append(keyParts, "-H", "'"+words[i+1]+"'")
			i++
		case w == "-X" && i+1 < len(words):
			c.method = words[i+1]
			keyParts = append(keyParts, "-X", c.method)
			i++
		case w == "-d" && i+1 < len(words):
			c.data = words[i+1]
			keyParts = append(keyParts, "-d", c.data)
			i++
		case w == "-i" || w == "-N":
			keyParts = append(keyParts, w)
		default:
			return c, fmt.Errorf("unexpected word %q", w)
		}
	}
	return c, fmt.Errorf("no URL starting with %s", base)
}

// shellWords splits s at spaces, keeping single-quoted text together.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case r == '\'':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, errors.New("unterminated quote")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// readAll reads r, failing the test on error.
func readAll(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading a body: %v", err)
	}
	return string(b)
}
