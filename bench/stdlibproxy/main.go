// Command stdlibproxy is the floor bench/run.sh measures Gatehouse against
// when PROXIES includes "stdlib": net/http/httputil.ReverseProxy with a
// Transport set up like Gatehouse's net/http Transport (pooled keep-alive,
// 32 KiB buffers, no compression), a pool of copy buffers as Gatehouse has
// (without one, ReverseProxy allocates 32 KiB per request), and the same
// forwarding headers. -bufsize 4096 gives the Transport net/http's default
// buffers instead, as small as those of Gatehouse's own HTTP/1.1 client
// (bench/rss.sh's "stdlib4k"). What Gatehouse spends beyond it is
// Gatehouse's own; the rest is net/http's. With -tls-listen it also serves
// HTTPS, HTTP/1.1 and HTTP/2 by ALPN with net/http's defaults, for the
// https and h2 scenarios.
//
//	stdlibproxy -listen 127.0.0.1:8080 -backend http://127.0.0.1:9000 -keepalive 128 \
//		[-bufsize 4096] [-tls-listen 127.0.0.1:8443 -cert cert.pem -key key.pem]
package main

import (
	"crypto/rand"
	"encoding/hex"
	"flag"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8080", "address to serve on")
	backend := flag.String("backend", "", "backend URL, http://host:port")
	keepalive := flag.Int("keepalive", 128, "idle backend connections kept")
	tlsListen := flag.String("tls-listen", "", "address to serve HTTPS on (HTTP/1.1 and HTTP/2); needs -cert and -key")
	certFile := flag.String("cert", "", "PEM certificate for -tls-listen")
	keyFile := flag.String("key", "", "PEM key for -tls-listen")
	bufSize := flag.Int("bufsize", 32<<10, "the Transport's read and write buffer per backend connection (net/http's default is 4096)")
	flag.Parse()
	target, err := url.Parse(*backend)
	if err != nil || target.Host == "" {
		log.Fatalf("stdlibproxy: -backend %q is not a URL", *backend)
	}
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   *keepalive,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		DisableCompression:    true,
		WriteBufferSize:       *bufSize,
		ReadBufferSize:        *bufSize,
	}
	rp := &httputil.ReverseProxy{
		Transport:  tr,
		BufferPool: &bufferPool{},
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			pr.SetXForwarded() // X-Forwarded-For, -Host, -Proto
			ip, _, _ := net.SplitHostPort(pr.In.RemoteAddr)
			pr.Out.Header["X-Real-Ip"] = []string{ip}
		},
	}
	// Like Gatehouse, send a fresh request ID upstream and back.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := []string{requestID()}
		w.Header()["X-Request-Id"] = id
		r.Header["X-Request-Id"] = id
		rp.ServeHTTP(w, r)
	})
	if *tlsListen != "" {
		tsrv := &http.Server{Addr: *tlsListen, Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
		go func() { log.Fatal(tsrv.ListenAndServeTLS(*certFile, *keyFile)) }()
	}
	srv := &http.Server{Addr: *listen, Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

func requestID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
