package h1

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/reqinfo"
)

type attachKey struct{}

// TestAttach: a request's context takes one value after it was made,
// answered by Value as context.WithValue would (also through contexts
// derived from it), and refuses a second; reqinfo keeps its Info there,
// so the root handler needs no request copy. Each request has its own.
func TestAttach(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := r.Context().(reqinfo.Attacher)
		if !ok {
			http.Error(w, "the request context is no Attacher", 500)
			return
		}
		if v := a.Value(attachKey{}); v != nil {
			http.Error(w, fmt.Sprintf("a value before Attach: %v", v), 500)
			return
		}
		ctx, info := reqinfo.NewContext(r.Context())
		if ctx != r.Context() {
			http.Error(w, "NewContext made a new context though the engine's has room", 500)
			return
		}
		info.RequestID = r.URL.Path
		derived, cancel := context.WithCancel(r.Context())
		defer cancel()
		if got := reqinfo.From(derived); got != info {
			http.Error(w, "From on a derived context does not find the attached Info", 500)
			return
		}
		if a.Attach(attachKey{}, 1) {
			http.Error(w, "a second Attach was taken", 500)
			return
		}
		if a.Value(attachKey{}) != nil {
			http.Error(w, "the refused value is answered", 500)
			return
		}
		// The room taken, NewContext falls back to a context of its own.
		ctx2, info2 := reqinfo.NewContext(r.Context())
		if ctx2 == r.Context() || info2 == info || reqinfo.From(ctx2) != info2 || reqinfo.From(r.Context()) != info {
			http.Error(w, "NewContext on a full context does not wrap it", 500)
			return
		}
		io.WriteString(w, reqinfo.From(r.Context()).RequestID)
	})
	addr := serveOn(t, &Server{}, h)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer c.CloseIdleConnections()
	for _, path := range []string{"/one", "/two"} { // the second on the same connection
		res, err := c.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(b) != path {
			t.Fatalf("%s: %d %q", path, res.StatusCode, b)
		}
	}
}
