package demo_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium is Debian's Chromium, from the chromium package.
const chromium = "/usr/bin/chromium"

// browserLimit bounds the whole browser test, Chromium's start included.
const browserLimit = 60 * time.Second

// TestDemoInBrowser loads the demo page in headless Chromium and requires
// its script to have called the API, echoed over the WebSocket and
// received the event stream, all through Gatehouse.
func TestDemoInBrowser(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("the browser test needs Chromium at %s (%v); install Debian's chromium package: apt-get install -y chromium", chromium, err)
	}
	d := startDemo(t)
	began := time.Now()

	var out syncBuffer
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(&out),
	)
	ctx, cancel := context.WithTimeout(context.Background(), browserLimit)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	var seen pageEvents
	bctx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithListener(seen.record))
	defer cancelBrowser()

	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\nevents: %s\nchromium output:\n%s\ndemo output:\n%s", append(args, seen.String(), out.String(), d.output())...)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(d.base+"/")); err != nil {
		fail("loading %s/: %v", d.base, err)
	}
	// Settled: any box failed, or all are ok and the third event is in.
	const settled = `(() => {
		const els = ["api", "ws", "sse"].map(id => document.getElementById(id));
		if (els.some(e => e.className === "err")) return "err";
		if (els.every(e => e.className === "ok") && els[2].textContent.startsWith("event 3:")) return "ok";
		return false;
	})()`
	if _, err := chromedp.Run(bctx, chromedp.Poll[string](settled,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(browserLimit))); err != nil {
		fail("the page did not settle: %v", err)
	}
	boxes, err := chromedp.Run(bctx, chromedp.Evaluate[[][]string](
		`["api", "ws", "sse"].map(id => [id, document.getElementById(id).className, document.getElementById(id).textContent])`))
	if err != nil {
		fail("reading the page: %v", err)
	}
	want := map[string]*regexp.Regexp{
		"api": regexp.MustCompile(`^200 from api-[12]: hello from the demo API$`),
		"ws":  regexp.MustCompile(`^echo: ping through gatehouse$`),
		"sse": regexp.MustCompile(`^event 3: tick 3 at \d\d:\d\d:\d\d$`),
	}
	for _, b := range boxes {
		if len(b) != 3 || b[1] != "ok" || !want[b[0]].MatchString(b[2]) {
			t.Errorf("#%s: %q, want class \"ok\" and text matching %s", b[0], b[1:], want[b[0]])
		}
	}
	if len(boxes) != 3 {
		t.Errorf("read %d boxes, want 3", len(boxes))
	}
	seen.want(t, d.base)
	t.Logf("the page settled %v after the demo started (Chromium's start included)", time.Since(began).Round(time.Millisecond))
}

// pageEvents records what the browser reported while loading the page.
type pageEvents struct {
	mu         sync.Mutex
	status     map[string]int64 // by URL
	wsStatus   []int64
	exceptions []string
}

func (p *pageEvents) record(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventResponseReceived:
		if p.status == nil {
			p.status = map[string]int64{}
		}
		p.status[ev.Response.URL] = ev.Response.Status
	case *network.EventWebSocketHandshakeResponseReceived:
		p.wsStatus = append(p.wsStatus, ev.Response.Status)
	case *cdpruntime.EventExceptionThrown:
		e := ev.ExceptionDetails
		desc := e.Text
		if e.Exception != nil {
			desc += " " + e.Exception.Description
		}
		p.exceptions = append(p.exceptions, fmt.Sprintf("%s:%d:%d: %s", e.URL, e.LineNumber+1, e.ColumnNumber+1, desc))
	}
}

// want requires every resource of the page to have loaded through base,
// the WebSocket handshake to have succeeded and no script error.
func (p *pageEvents) want(t *testing.T, base string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, path := range []string{"/", "/assets/style.css", "/assets/app.js", "/assets/logo.svg", "/api/hello", "/api/events?n=3"} {
		if got := p.status[base+path]; got != 200 {
			t.Errorf("%s: status %d, want 200 (responses: %v)", path, got, p.status)
		}
	}
	if len(p.wsStatus) != 1 || p.wsStatus[0] != 101 {
		t.Errorf("WebSocket handshakes %v, want one 101", p.wsStatus)
	}
	if len(p.exceptions) > 0 {
		t.Errorf("script errors: %s", strings.Join(p.exceptions, "; "))
	}
}

func (p *pageEvents) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for u, s := range p.status {
		b.WriteString(u + " " + strconv.FormatInt(s, 10) + "; ")
	}
	return b.String()
}

// syncBuffer is a bytes.Buffer safe for Chromium's output goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}
