package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
)

// Rapid reset, numbers of the test.
const (
	resetsPerRound = 100_000
	resetRounds    = 4
	// Each connection resets fewer streams than h2guard's default
	// MinResets (1,000), so the flat-RSS proof holds with or without the
	// guard: it is the streams, not the guard, that must cost nothing.
	resetsPerConn = 800
	resetConns    = 8 // connections at a time
	// rssGrowthLimit bounds VmRSS growth from round 1 to the last. Before
	// the deadline fix each round added about 40 MiB at rssGOGC (70 at
	// the default GOGC); after it, VmRSS stays within a few MiB of 22 MiB.
	rssGrowthLimit = 20 << 20
	// rssGOGC is the binary's GOGC. At the default 100 a heap of this
	// size leaves garbage worth +-12 MiB of VmRSS from round to round,
	// as collections happen to fall; at 25 VmRSS follows the live heap,
	// which is what a leak grows.
	rssGOGC = "25"
)

// TestRapidResetRSSFlat: the real binary, on an h2c listener, sees
// resetRounds rounds of resetsPerRound streams that a client opens and
// resets at once (the HTTP/2 rapid-reset pattern), spread over
// connections. Its VmRSS stays flat: a reset stream costs nothing once it
// is gone, rather than being held until send_timeout (60 s) by a write
// deadline armed after the reset. The binary is built without -race,
// whose shadow memory would dwarf the quantity measured, and runs with
// GOGC rssGOGC.
func TestRapidResetRSSFlat(t *testing.T) {
	addr, pid, proc := startResetTarget(t)

	var rss []int64
	for round := range resetRounds {
		start := time.Now()
		got := resetRound(t, addr, resetsPerRound, resetsPerConn)
		rss = append(rss, settledRSS(t, pid))
		t.Logf("round %d: %d streams opened and reset in %s (%d GOAWAY from the server); VmRSS %.1f MiB",
			round+1, got.streams, time.Since(start).Round(time.Millisecond), got.goaways, mib(rss[round]))
		if got.streams < resetsPerRound {
			t.Fatalf("round %d: only %d of %d streams sent", round+1, got.streams, resetsPerRound)
		}
	}
	if grew := rss[len(rss)-1] - rss[0]; grew > rssGrowthLimit {
		t.Errorf("VmRSS grew %.1f MiB from round 1 to round %d (MiB: %.1f), want under %d MiB: reset streams are held after they are gone",
			mib(grew), resetRounds, mibs(rss), rssGrowthLimit>>20)
	}
	if proc.Exited() {
		t.Fatal("gatehouse exited during the rounds")
	}

	t.Run("h2guard: one fast connection gets GOAWAY ENHANCE_YOUR_CALM", func(t *testing.T) {
		const n = 20_000
		got := resetConn(addr, n)
		fromGuard := got.calm && bytes.Contains(got.debug, []byte("h2guard"))
		if !fromGuard {
			t.Fatalf("one connection reset %d streams and got no GOAWAY ENHANCE_YOUR_CALM from the guard (GOAWAYs %d, debug %q, err %v)",
				got.streams, got.goaways, got.debug, got.err)
		}
		proc.WaitLog(5*time.Second, "HTTP/2 connection resets streams too fast")
	})
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func mibs(bs []int64) []float64 {
	out := make([]float64, len(bs))
	for i, b := range bs {
		out[i] = float64(int(mib(b)*10)) / 10
	}
	return out
}

// startResetTarget runs the gatehouse binary with one h2c listener in
// front of an echo backend and returns the listener's address, the
// process id and the process.
func startResetTarget(t *testing.T) (string, int, *testkit.Process) {
	t.Helper()
	bin, cleanup, err := testkit.BuildBinary(false, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cleanup)
	backend := testkit.NewBackend(t, "web", testkit.Echo())
	dir := t.TempDir()
	t.Setenv("GOGC", rssGOGC) // for the process only: the test's own runtime has started
	for try := 0; ; try++ {
		addr := freeAddr(t)
		path := filepath.Join(dir, "gatehouse.yaml")
		writeConfig(t, path, fmt.Sprintf(`listeners: [{address: "%s", h2c: true}]
log: {level: warn, access: false}
routes: [{upstream: "%s"}]
`, addr, backend.URL))
		p := testkit.StartProcess(t, bin, dir, "run", "-config", path)
		// At log level warn "gatehouse started" is not written: wait
		// for the port instead.
		testkit.Eventually(t, 30*time.Second, func() bool {
			if p.Exited() {
				return true
			}
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
			}
			return err == nil
		}, "gatehouse did not start")
		if !p.Exited() {
			return addr, pidOf(t, bin), p
		}
		if try == 3 || !strings.Contains(p.Stderr.String()+p.Logs.String(), "address already in use") {
			t.Fatalf("gatehouse exited at start:\n%s\n%s", p.Logs, p.Stderr)
		}
	}
}

// pidOf finds the running process whose executable is bin (a path only
// this test uses).
func pidOf(t *testing.T, bin string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == bin {
			return pid
		}
	}
	t.Fatalf("no process runs %s", bin)
	return 0
}

// settledRSS waits for the process to finish the round (its RSS stops
// moving for a moment) and returns its VmRSS in bytes.
func settledRSS(t *testing.T, pid int) int64 {
	t.Helper()
	prev := vmRSS(t, pid)
	for range 20 {
		time.Sleep(250 * time.Millisecond)
		cur := vmRSS(t, pid)
		if d := cur - prev; d < 1<<20 && d > -1<<20 {
			return cur
		}
		prev = cur
	}
	return prev
}

func vmRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS line %q: %v", line, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// resetResult is what one connection (or a round of them) saw.
type resetResult struct {
	streams int    // streams opened and reset
	goaways int    // GOAWAY frames received
	calm    bool   // a GOAWAY said ENHANCE_YOUR_CALM
	debug   []byte // that GOAWAY's debug data
	err     error  // why the connection ended early, if it did
}

// resetRound opens and resets total streams over connections of perConn
// streams each, resetConns at a time. What a connection the server ended
// early (x/net's own limit on resets outpacing handlers, say) did not
// send goes to the next one, so the round always sends total streams.
func resetRound(t *testing.T, addr string, total, perConn int) resetResult {
	t.Helper()
	var mu sync.Mutex
	var sum resetResult
	left := total
	// claim books what a connection did with the asked streams and
	// takes up to want more.
	claim := func(r resetResult, asked, want int) int {
		mu.Lock()
		defer mu.Unlock()
		sum.streams += r.streams
		sum.goaways += r.goaways
		left += asked - r.streams
		n := min(want, left)
		left -= n
		return n
	}
	var wg sync.WaitGroup
	errs := make(chan error, resetConns)
	for range resetConns {
		wg.Go(func() {
			failures := 0
			for n := claim(resetResult{}, 0, perConn); n > 0; {
				r := resetConn(addr, n)
				if r.err != nil {
					if failures++; failures > 20 {
						errs <- r.err
						claim(r, n, 0)
						return
					}
				}
				n = claim(r, n, perConn)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("rapid-reset connection: %v", err)
	}
	return sum
}

// resetConn opens one HTTP/2 connection with prior knowledge, opens and at
// once resets n streams (HEADERS with END_STREAM, then RST_STREAM CANCEL,
// written back to back), then waits for the answer to a PING: as the
// server handles a connection's frames in order, the streams are all
// reset on its side by then. It counts what it managed to send before the
// server ended the connection, if it did.
func resetConn(addr string, n int) (res resetResult) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		res.err = err
		return res
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))

	pong := make(chan resetResult, 1)
	go readUntilPong(c, pong)

	bw := bufio.NewWriterSize(c, 32<<10)
	fr := http2.NewFramer(bw, nil)
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {":authority", "reset.test"}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	if _, err = io.WriteString(bw, http2.ClientPreface); err == nil {
		err = fr.WriteSettings()
	}
	for i := 0; i < n && err == nil; i++ {
		id := uint32(2*i + 1)
		err = fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block.Bytes(), EndStream: true, EndHeaders: true})
		if err == nil {
			err = fr.WriteRSTStream(id, http2.ErrCodeCancel)
		}
		if err == nil {
			res.streams++
		}
	}
	if err == nil {
		err = fr.WritePing(false, [8]byte{'r', 'a', 'p', 'i', 'd'})
	}
	if err == nil {
		err = bw.Flush()
	}
	got := <-pong
	got.streams = res.streams
	if err != nil && got.err == nil {
		got.err = err
	}
	if got.goaways > 0 && got.err != nil {
		got.err = nil // told to go away and then closed: the server's choice, not a failure
		if !got.calm {
			got.err = errGoneAway
		}
	}
	return got
}

var errGoneAway = errors.New("server sent GOAWAY (not ENHANCE_YOUR_CALM) and closed")

// readUntilPong reads the server's frames until the answer to the PING
// resetConn sends last, or until the connection ends, and reports GOAWAYs.
func readUntilPong(c net.Conn, out chan<- resetResult) {
	var res resetResult
	fr := http2.NewFramer(nil, bufio.NewReader(c))
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			res.err = err
			out <- res
			return
		}
		switch f := f.(type) {
		case *http2.PingFrame:
			if f.IsAck() {
				out <- res
				return
			}
		case *http2.GoAwayFrame:
			res.goaways++
			if f.ErrCode == http2.ErrCodeEnhanceYourCalm {
				res.calm = true
				res.debug = bytes.Clone(f.DebugData())
			}
		}
	}
}
