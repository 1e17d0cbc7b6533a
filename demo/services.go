// Package demo runs the services behind `gatehouse demo`: two instances of
// an API, a web app, a WebSocket echo service and an identity provider's
// key set, each on its own loopback port, plus the static assets written
// to a temporary directory.
package demo

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/coder/websocket"
	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-proxy/gatehouse/examples"
)

// Services are the running demo backends. Close stops them.
type Services struct {
	// Env maps the variables of examples/gatehouse.yaml to the services'
	// addresses (API_1, API_2, APP, ECHO, IDP, ASSETS).
	Env     map[string]string
	servers []*http.Server
	tmp     string
	idp     *ecdsa.PrivateKey // signs the demo's tokens; made anew each run
}

// Start runs every demo service on 127.0.0.1 with a free port each.
func Start() (*Services, error) {
	s := &Services{Env: map[string]string{}}
	tmp, err := os.MkdirTemp("", "gatehouse-demo-")
	if err != nil {
		return nil, err
	}
	s.tmp = tmp
	if err := writeAssets(tmp); err != nil {
		s.Close()
		return nil, err
	}
	s.Env["ASSETS"] = tmp
	if s.idp, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		s.Close()
		return nil, err
	}
	for name, h := range map[string]http.Handler{
		"API_1": api("api-1"),
		"API_2": api("api-2"),
		"APP":   app(),
		"ECHO":  echo(),
		"IDP":   jwks(&s.idp.PublicKey),
	} {
		addr, err := s.serve(h)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.Env[name] = "http://" + addr
	}
	return s, nil
}

func (s *Services) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go srv.Serve(ln)
	return ln.Addr().String(), nil
}

// Close stops the services and removes the temporary assets.
func (s *Services) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		srv.Shutdown(ctx)
	}
	if s.tmp != "" {
		os.RemoveAll(s.tmp)
	}
}

// writeAssets copies the embedded assets into dir.
func writeAssets(dir string) error {
	sub, err := fs.Sub(examples.Assets, "assets")
	if err != nil {
		return err
	}
	return fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}

// api is one instance of the demo API. Its paths are seen after Gatehouse
// strips /api.
func api(instance string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"message":           "hello from the demo API",
			"instance":          instance,
			"path_seen":         r.URL.Path,
			"client_ip":         r.Header.Get("X-Real-Ip"),
			"x_forwarded_for":   r.Header.Get("X-Forwarded-For"),
			"x_forwarded_proto": r.Header.Get("X-Forwarded-Proto"),
			"x_forwarded_host":  r.Header.Get("X-Forwarded-Host"),
			"forwarded":         r.Header.Get("Forwarded"),
			"request_id":        r.Header.Get("X-Request-Id"),
		})
	})
	mux.HandleFunc("GET /time", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"instance": instance, "time": time.Now().UTC().Format(time.RFC3339Nano)})
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		// Read the whole body before answering: an HTTP/1 handler cannot
		// read the body once it has begun writing the response.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", r.Header.Get("Content-Type"))
		w.Write(body)
	})
	mux.HandleFunc("GET /events", events)
	mux.HandleFunc("GET /catalog", catalog)
	mux.HandleFunc("GET /private", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"message":     "only for callers with a key; Gatehouse checked it and says who they are",
			"x_auth_user": r.Header.Get("X-Auth-User"),
			"x_api_key":   r.Header.Get("X-Api-Key"),
		})
	})
	mux.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"message":       "for callers with a token from the demo IdP holding the orders:read scope",
			"x_auth_user":   r.Header.Get("X-Auth-User"),
			"x_auth_scope":  r.Header.Get("X-Auth-Scope"),
			"authorization": r.Header.Get("Authorization"),
		})
	})
	mux.HandleFunc("GET /staff", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"message":       "for callers the demo auth service admitted (forward auth)",
			"x_auth_user":   r.Header.Get("X-Auth-User"),
			"x_auth_groups": r.Header.Get("X-Auth-Groups"),
		})
	})
	mux.HandleFunc("GET /quota", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"instance": instance, "message": "a costly call: Gatehouse lets each client make 3 a minute"})
	})
	return mux
}

// Demo tokens are issued by DemoIssuer for DemoAudience, signed with the
// IdP's key (kid DemoKeyID); examples/gatehouse.yaml checks them.
const (
	DemoIssuer   = "gatehouse-demo-idp"
	DemoAudience = "demo-api"
	DemoKeyID    = "demo-1"
)

// jwks is the demo IdP: its public key as a JSON Web Key Set at
// /.well-known/jwks.json, kept by clients for 5 minutes.
func jwks(pub *ecdsa.PublicKey) http.Handler {
	b, err := pub.Bytes() // 0x04 || X || Y, 32 bytes each for P-256
	if err != nil {
		panic(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	set := map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": DemoKeyID,
		"x": enc(b[1:33]), "y": enc(b[33:]),
	}}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		writeJSON(w, set)
	})
	mux.HandleFunc("/verify", verify)
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "The demo login page: a real one would set the demo_session cookie.\n")
	})
	return mux
}

// DemoSession is the session cookie value the demo auth service accepts.
const DemoSession = "demo-session"

// verify is the demo auth service's forward-auth endpoint: a request
// with the demo session is admitted and named; any other is sent to the
// login page, with where it was going (from the X-Forwarded-* headers
// Gatehouse sets, which a client cannot forge).
func verify(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie("demo_session"); err == nil && c.Value == DemoSession {
		w.Header().Set("X-Auth-User", "sso-user")
		w.Header().Set("X-Auth-Groups", "staff")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	back := r.Header.Get("X-Forwarded-Proto") + "://" + r.Header.Get("X-Forwarded-Host") + r.Header.Get("X-Forwarded-Uri")
	w.Header().Set("Location", "http://"+r.Host+"/login?rd="+url.QueryEscape(back))
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusFound)
	io.WriteString(w, "log in first: the demo auth service sends you to its login page\n")
}

// Token is a token of the demo IdP for sub, valid for a day, holding
// scope (space-separated).
func (s *Services) Token(sub, scope string) (string, error) {
	now := time.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{
		"iss": DemoIssuer, "aud": DemoAudience, "sub": sub, "scope": scope,
		"iat": now.Unix(), "exp": now.Add(24 * time.Hour).Unix(),
	})
	t.Header["kid"] = DemoKeyID
	return t.SignedString(s.idp)
}

// catalog is a cacheable API answer: 30 seconds fresh, then served stale
// for up to 30 more while Gatehouse refreshes it in the background, with
// an ETag to revalidate and a surrogate key to purge it by. Large enough
// (about 5 KiB) to be compressed.
func catalog(w http.ResponseWriter, r *http.Request) {
	type item struct {
		ID    int      `json:"id"`
		Name  string   `json:"name"`
		Price float64  `json:"price"`
		Tags  []string `json:"tags"`
	}
	items := make([]item, 40)
	for i := range items {
		items[i] = item{ID: i + 1, Name: fmt.Sprintf("Widget %d", i+1), Price: float64(100+7*i) / 10, Tags: []string{"widgets", "demo"}}
	}
	w.Header().Set("Cache-Control", "public, max-age=30, stale-while-revalidate=30")
	w.Header().Set("ETag", `"catalog-v1"`)
	w.Header().Set("Surrogate-Key", "catalog")
	writeJSON(w, map[string]any{"generated": time.Now().UTC().Format(time.RFC3339Nano), "items": items})
}

// events streams server-sent events, one per second (n of them, default 5).
func events(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	if n <= 0 || n > 100 {
		n = 5
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	rc := http.NewResponseController(w)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(w, "id: %d\ndata: tick %d at %s\n\n", i, i, time.Now().UTC().Format(time.TimeOnly))
		if rc.Flush() != nil {
			return
		}
		if i < n {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
}

// writeJSON answers v as indented JSON with a Content-Length, as an
// API would: a cache in front can then tell at once that it fits.
func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.Write(b)
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Gatehouse demo</title>
<link rel="stylesheet" href="/assets/style.css">
</head>
<body>
<h1><img src="/assets/logo.svg" alt="">Gatehouse demo</h1>
<p>This page comes from the web app behind Gatehouse (path {{.}}). Its style and
script come from the static route, and the script talks to the API, the event
stream and the WebSocket echo service, all through the same port.</p>
<section><h2>API (/api/hello)</h2><pre id="api">waiting</pre></section>
<section><h2>Server-sent events (/api/events)</h2><pre id="sse">waiting</pre></section>
<section><h2>WebSocket echo (/ws)</h2><pre id="ws">waiting</pre></section>
<script src="/assets/app.js"></script>
</body>
</html>
`))

// app is the demo web app: one HTML page for every path.
func app() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		page.Execute(w, r.URL.Path)
	})
}

// echo is the WebSocket echo service at /ws.
func echo() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
}
