package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/gatehouse-proxy/gatehouse/config"
	demopkg "github.com/gatehouse-proxy/gatehouse/demo"
)

func defineDemo(fs *flag.FlagSet) func(stdout, stderr io.Writer) int {
	listen := fs.String("listen", "127.0.0.1:8080", "listen on `ADDR`")
	return func(stdout, stderr io.Writer) int {
		svc, err := demopkg.Start()
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse demo: starting the demo services: %v\n", err)
			return 1
		}
		defer svc.Close()
		cfg, err := svc.Config(*listen)
		if err != nil {
			fmt.Fprintf(stderr, "gatehouse demo: %v\n", err)
			return 1
		}
		if err := printTryMe(stdout, *listen, svc); err != nil {
			fmt.Fprintf(stderr, "gatehouse demo: %v\n", err)
			return 1
		}
		return serve(cfg, func() (*config.Config, error) { return svc.Config(*listen) }, "")
	}
}

func printTryMe(w io.Writer, listen string, svc *demopkg.Services) error {
	u := "http://" + listen
	tok, err := svc.Token("demo-user", "profile orders:read")
	if err != nil {
		return fmt.Errorf("signing the demo token: %w", err)
	}
	fmt.Fprintf(w, `Gatehouse demo: a small site behind Gatehouse on %[1]s
(config: %[2]s; services: API %[3]s and %[4]s, app %[5]s, echo %[6]s, IdP %[8]s)

Try:
  open %[1]s/                                           the web app (uses every route below)
  curl %[1]s/api/hello                                  API, round robin over two instances
  curl -H 'X-Forwarded-For: 6.6.6.6' %[1]s/api/hello    a spoofed client IP is replaced
  curl -N %[1]s/api/events                              server-sent events, streamed as they come
  curl -i %[1]s/api/catalog                            cacheable: run it twice, a miss then a hit (Cache-Status, Age)
  curl -i -H 'Accept-Encoding: br' %[1]s/api/catalog   compressed with brotli, and cached once per encoding
  curl -X PURGE %[1]s/api/catalog                      purge it from the cache (allowed from this machine only)
  curl -i %[1]s/api/quota                              3 a minute per client: the 4th try is a 429 (Retry-After, RateLimit)
  curl -i -X OPTIONS -H 'Origin: https://app.example.com' \
       -H 'Access-Control-Request-Method: POST' %[1]s/api/echo  a CORS preflight, answered by Gatehouse (204)
  curl -i -X DELETE %[1]s/api/hello                     a method the API does not serve: 405 with Allow
  curl -i %[1]s/api/private                            needs an API key: 401
  curl -i -H 'X-API-Key: demo-key' %[1]s/api/private   with the key: 200, and the API is told who called (X-Auth-User)
  curl -i %[1]s/api/orders                             needs a token (JWT): 401 with WWW-Authenticate: Bearer
  curl -i -H 'Authorization: Bearer %[7]s' \
       %[1]s/api/orders  a token of the demo IdP (ES256, checked against its JWKS): 200, the API gets the user and scope, not the token
  curl -i %[1]s/api/staff                              forward auth: without a session the 302 of the auth service to its login page comes back as sent
  curl -i -H 'Cookie: demo_session=demo-session' %[1]s/api/staff   with a session: 200, the API is told the user and groups the service named
  curl -i %[1]s/assets/style.css                        a static file with ETag and Last-Modified
  curl -i -H 'Range: bytes=0-9' %[1]s/assets/app.js     a range request (206)
  curl -i %[1]s/old-api/time                            a redirect to /api/time
  curl -i %[1]s/api/../assets/app.js                    normalized before routing (--path-as-is to send it raw)
  curl -i %[1]s/assets                                 a directory without its slash: 301 to ./assets/
  curl -i -H 'Bad Name: x' %[1]s/api/hello              a malformed request: a plain 400, logged like any other
  curl -i -H 'Transfer-Encoding: chunked' -H 'Content-Length: 3' -d abc %[1]s/api/echo   a request smuggling pattern: 400, closed, never forwarded
  curl -i -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
       -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' %[1]s/ws  a WebSocket handshake (101)

Stop with Ctrl-C. Logs follow.

`, u, demopkg.ConfigFile, svc.Env["API_1"], svc.Env["API_2"], svc.Env["APP"], svc.Env["ECHO"], tok, svc.Env["IDP"])
	return nil
}
