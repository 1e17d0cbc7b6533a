package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// backend is a real HTTP service on loopback that the proxy forwards to.
// Every response carries X-Backend with its name.
//
//	GET  /hello       "hello from NAME\n"
//	POST /echo        the request body
//	GET  /slow?hold=D held for D (or until the test ends), then "slow done\n";
//	                  its arrival is announced on arrived
//	     /ws          a WebSocket echo
type backend struct {
	name    string
	url     string
	arrived chan struct{}
	release chan struct{}
}

func newBackend(t *testing.T, name string) *backend {
	t.Helper()
	b := &backend{name: name, arrived: make(chan struct{}, 16), release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from "+name+"\n")
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		// Read it all first: an HTTP/1 handler cannot read the body once
		// it has started answering.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Write(body)
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		hold, err := time.ParseDuration(r.URL.Query().Get("hold"))
		if err != nil {
			http.Error(w, "hold: "+err.Error(), http.StatusBadRequest)
			return
		}
		b.arrived <- struct{}{}
		select {
		case <-time.After(hold):
		case <-b.release:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "slow done\n")
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, msg); err != nil {
				return
			}
		}
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend", name)
		mux.ServeHTTP(w, r)
	}))
	b.url = srv.URL
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(b.release) }) // runs first: lets held requests end
	return b
}

// site is a gatehouse config for the lifecycle tests: the listener(s), a
// main route to one upstream that stamps X-Config on its responses, and a
// /ws route to an echo upstream.
type site struct {
	addr, addr2 string // addr2, if set, is a second listener
	idleTimeout string // of the first listener; default 120s
	label       string // X-Config on responses of the main route
	upstream    string // name of the main route's upstream
	target      *backend
	echo        *backend // nil: no /ws route
	echoDial    string   // dial_timeout of the echo upstream; default 2s
	drain       string   // limits.drain_timeout; default 10s
	watch       bool
}

func (s site) String() string {
	var b strings.Builder
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	fmt.Fprintf(&b, "listeners:\n  - name: web\n    address: %s\n    idle_timeout: %s\n", s.addr, or(s.idleTimeout, "120s"))
	if s.addr2 != "" {
		fmt.Fprintf(&b, "  - name: second\n    address: %s\n", s.addr2)
	}
	fmt.Fprintf(&b, "log:\n  access: false\nlimits:\n  drain_timeout: %s\n", or(s.drain, "10s"))
	if s.watch {
		b.WriteString("reload:\n  watch: true\n")
	}
	fmt.Fprintf(&b, "upstreams:\n  %s:\n    targets: [%s]\n", s.upstream, s.target.url)
	if s.echo != nil {
		fmt.Fprintf(&b, "  echo:\n    targets: [%s]\n    dial_timeout: %s\n", s.echo.url, or(s.echoDial, "2s"))
	}
	fmt.Fprintf(&b, `routes:
  - name: main
    match: {path: /}
    upstream: %s
    response_headers:
      set: {X-Config: %s}
`, s.upstream, s.label)
	if s.echo != nil {
		b.WriteString("  - name: ws\n    match: {path: /ws}\n    upstream: echo\n")
	}
	return b.String()
}

// get fetches url on a fresh connection and returns the status, the
// X-Config and X-Backend headers and the body.
func get(t *testing.T, url string) (status int, config, backend, body string) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: waitLimit}
	res, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return res.StatusCode, res.Header.Get("X-Config"), res.Header.Get("X-Backend"), string(b)
}

// wantServed requires url to be answered 200 by backend be under config
// label.
func wantServed(t *testing.T, url, label string, be *backend) {
	t.Helper()
	status, cfg, name, body := get(t, url)
	if status != 200 || cfg != label || name != be.name || body != "hello from "+be.name+"\n" {
		t.Fatalf("GET %s = %d X-Config %q X-Backend %q body %q; want 200 %q %q %q",
			url, status, cfg, name, body, label, be.name, "hello from "+be.name+"\n")
	}
}
