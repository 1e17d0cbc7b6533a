package funnel

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

var errDenied = errors.New("denied by the service")

// answerServer runs a real server whose every request fails with the
// error mk returns, after setting a header an earlier attempt might
// have set and the request ID; the funnel logs into log.
func answerServer(t *testing.T, log *bytes.Buffer, mk func() error) *httptest.Server {
	t.Helper()
	f := &Funnel{Log: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})), RequestIDHeader: "X-Request-Id"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, info := reqinfo.NewContext(r.Context())
		info.RequestID = "rid-1"
		w.Header()["X-Request-Id"] = []string{"rid-1"}
		w.Header().Set("X-Earlier-Attempt", "stale")
		f.Fail(w, r.WithContext(ctx), mk())
		if info.Status == 0 || info.Err == nil {
			t.Errorf("the funnel left Status %d, Err %v", info.Status, info.Err)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url string, h ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(h); i += 2 {
		req.Header.Set(h[i], h[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

// An Answer anywhere in the chain is written as it is: status, header
// fields, body; minus hop-by-hop fields and the answer's own
// Content-Length, plus what WithHeader attached; the request ID stays
// the funnel's and an earlier attempt's header goes.
func TestAnswerWrittenAsSent(t *testing.T) {
	body := []byte("<html>please log in</html>")
	var log bytes.Buffer
	challenge := append(make([]string, 0, 4), `Bearer realm="sso"`) // room an append must not use
	srv := answerServer(t, &log, func() error {
		a := &Answer{Status: http.StatusFound, Body: body, Err: fmt.Errorf("the service answered 302: %w", errDenied), Header: http.Header{
			"Location":          {"https://login.example/?rd=%2Fapp"},
			"Set-Cookie":        {"state=abc; HttpOnly", "nonce=xyz; Secure"},
			"Content-Type":      {"text/html; charset=utf-8"},
			"Content-Length":    {"9999"},
			"Connection":        {"keep-alive, X-Private"},
			"X-Private":         {"named by Connection"},
			"Keep-Alive":        {"timeout=5"},
			"Transfer-Encoding": {"chunked"},
			"X-Request-Id":      {"the service's own"},
			"Www-Authenticate":  challenge,
		}}
		return WithHeader(WithHeader(fmt.Errorf("route app: %w", a), "X-Extra", "attached"), "WWW-Authenticate", `Basic realm="x"`)
	})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, accept := range []string{"", "application/json"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/app", nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusFound || !bytes.Equal(got, body) {
			t.Errorf("Accept %q: %d %q, want 302 with the service's body", accept, res.StatusCode, got)
		}
		h := res.Header
		if h.Get("Location") != "https://login.example/?rd=%2Fapp" || strings.Join(h["Set-Cookie"], "|") != "state=abc; HttpOnly|nonce=xyz; Secure" ||
			h.Get("Content-Type") != "text/html; charset=utf-8" || res.ContentLength != int64(len(body)) {
			t.Errorf("Accept %q: header %v, want the service's Location, both cookies, its Content-Type and the real length", accept, h)
		}
		for _, k := range []string{"X-Private", "Keep-Alive", "X-Earlier-Attempt", "X-Content-Type-Options"} {
			if v, ok := h[k]; ok {
				t.Errorf("Accept %q: %s %q was written", accept, k, v)
			}
		}
		if got := strings.Join(h["Www-Authenticate"], "|"); got != `Bearer realm="sso"|Basic realm="x"` {
			t.Errorf("Accept %q: WWW-Authenticate %q, want the answer's and the attached one", accept, got)
		}
		if h.Get("X-Request-Id") != "rid-1" || len(h["X-Request-Id"]) != 1 || h.Get("X-Extra") != "attached" || len(res.TransferEncoding) != 0 {
			t.Errorf("Accept %q: X-Request-Id %q, X-Extra %q, Transfer-Encoding %v", accept, h["X-Request-Id"], h.Get("X-Extra"), res.TransferEncoding)
		}
	}
	if spare := challenge[:2][1]; spare != "" {
		t.Errorf("the funnel wrote %q into the answer's header", spare)
	}
	if l := log.String(); !strings.Contains(l, "status=302") || !strings.Contains(l, "the service answered 302: denied by the service") {
		t.Errorf("the log does not say 302 and why:\n%s", l)
	}
}

func TestAnswerWithoutContentTypeIsNotSniffed(t *testing.T) {
	var log bytes.Buffer
	srv := answerServer(t, &log, func() error {
		return &Answer{Status: http.StatusUnauthorized, Header: http.Header{"Www-Authenticate": {`Bearer realm="x"`}}, Body: []byte("<html>no</html>")}
	})
	res, body := do(t, http.MethodGet, srv.URL)
	if res.StatusCode != 401 || string(body) != "<html>no</html>" || res.Header.Get("Www-Authenticate") != `Bearer realm="x"` {
		t.Errorf("%d %q %v", res.StatusCode, body, res.Header)
	}
	if ct, ok := res.Header["Content-Type"]; ok {
		t.Errorf("Content-Type %q was sniffed for an answer that had none", ct)
	}
	if !strings.Contains(log.String(), "error=\"answered 401\"") {
		t.Errorf("an Answer without Err is not logged as answered 401:\n%s", log.String())
	}
	res, body = do(t, http.MethodHead, srv.URL)
	if res.StatusCode != 401 || len(body) != 0 {
		t.Errorf("HEAD: %d with %d body bytes", res.StatusCode, len(body))
	}
}

func TestAnswerNoContent(t *testing.T) {
	var log bytes.Buffer
	srv := answerServer(t, &log, func() error {
		return &Answer{Status: http.StatusNoContent, Header: http.Header{"X-Why": {"empty"}}, Body: []byte("dropped")}
	})
	res, body := do(t, http.MethodGet, srv.URL)
	if res.StatusCode != 204 || len(body) != 0 || res.Header.Get("X-Why") != "empty" {
		t.Errorf("%d %q %v", res.StatusCode, body, res.Header)
	}
}

// A gRPC client cannot read an HTTP body: it gets the gRPC status of
// the answer's, as for every failure.
func TestAnswerToGRPC(t *testing.T) {
	var log bytes.Buffer
	srv := answerServer(t, &log, func() error {
		return &Answer{Status: http.StatusUnauthorized, Header: http.Header{"Content-Type": {"text/html"}, "Set-Cookie": {"a=b"}}, Body: []byte("<html>")}
	})
	res, body := do(t, http.MethodPost, srv.URL, "Content-Type", "application/grpc")
	if res.Header.Get("Set-Cookie") != "" {
		t.Errorf("a gRPC client got the answer's Set-Cookie")
	}
	if res.StatusCode != 200 || res.Header.Get("Grpc-Status") != "16" || len(body) != 0 || res.Header.Get("Content-Type") != "application/grpc" {
		t.Errorf("%d grpc-status %q, Content-Type %q, body %q", res.StatusCode, res.Header.Get("Grpc-Status"), res.Header.Get("Content-Type"), body)
	}
}

func TestClassifyAnswer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
	}{
		{"a 302", fmt.Errorf("x: %w", &Answer{Status: 302}), 302},
		{"a common status is its class", &Answer{Status: 403}, 403},
		{"before a Class outside it", fmt.Errorf("%w: %w", &Answer{Status: 401}, ErrUnavailable), 401},
		{"after a Class before it", fmt.Errorf("%w: %w", ErrUnavailable, &Answer{Status: 401}), 401},
		{"a client gone wins", fmt.Errorf("%w: %w", &Answer{Status: 401}, closer{}), StatusClientClosed},
		{"1xx is ignored", &Answer{Status: 101, Err: ErrForbidden}, 403},
		{"499 is ignored", &Answer{Status: StatusClientClosed}, 502},
		{"600 is ignored", &Answer{Status: 600}, 502},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Status(tc.err); got != tc.status {
				t.Errorf("Status = %d, want %d", got, tc.status)
			}
		})
	}
	a := &Answer{Status: 418, Err: errDenied}
	if c := Classify(a); c.Message != "i'm a teapot" || !errors.Is(a, errDenied) || a.Error() != errDenied.Error() {
		t.Errorf("class %+v; errors.Is %v; Error %q", c, errors.Is(a, errDenied), a.Error())
	}
}

type closer struct{}

func (closer) Error() string      { return "client gone" }
func (closer) ClientClosed() bool { return true }

// Fail answers a request whose body may be unread with Connection:
// close, answer or not.
func TestAnswerClosesAfterUnreadBody(t *testing.T) {
	var log bytes.Buffer
	srv := answerServer(t, &log, func() error { return &Answer{Status: 401, Body: []byte("no")} })
	res, err := http.Post(srv.URL, "text/plain", strings.NewReader("unread body"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 || !res.Close {
		t.Errorf("%d, Close %v; want 401 closing the connection", res.StatusCode, res.Close)
	}
}
