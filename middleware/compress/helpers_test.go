package compress

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// jsonBody returns a JSON array of API-like records, at least n bytes,
// the same for every n: a realistic body to compress, neither random
// bytes nor one string repeated.
func jsonBody(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	first := []string{"Alice", "Bob", "Chloé", "Dmitri", "Eun-ji", "Farah", "Gustavo", "Hiroshi", "Ines", "Jamal"}
	last := []string{"Johnson", "Martin", "Nakamura", "Okafor", "Petrov", "Quintero", "Rossi", "Schmidt", "Tanaka", "Umarov"}
	cities := []string{"Lyon", "Osaka", "Lagos", "Porto", "Denver", "Tallinn", "Recife", "Pune"}
	tags := []string{"alpha", "beta", "gamma", "admin", "trial", "vip", "beta-tester", "eu", "us"}
	var b strings.Builder
	b.WriteString("[")
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}
		f, l := first[rng.IntN(len(first))], last[rng.IntN(len(last))]
		fmt.Fprintf(&b, `{"id":%d,"uuid":"%08x-%04x-%04x-%04x-%012x","name":"%s %s","email":"%s.%s%d@example.com",`,
			100000+i, rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<16), rng.IntN(1<<16), rng.Uint64()&(1<<48-1),
			f, l, strings.ToLower(f), strings.ToLower(l), rng.IntN(100))
		fmt.Fprintf(&b, `"active":%t,"balance":%.2f,"score":%d,"tags":["%s","%s"],`,
			rng.IntN(2) == 0, rng.Float64()*10000, rng.IntN(1000), tags[rng.IntN(len(tags))], tags[rng.IntN(len(tags))])
		fmt.Fprintf(&b, `"created_at":"2024-%02d-%02dT%02d:%02d:%02dZ","address":{"city":"%s","zip":"%05d"}}`,
			1+rng.IntN(12), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60), rng.IntN(60), cities[rng.IntN(len(cities))], rng.IntN(100000))
	}
	b.WriteString("]\n")
	return []byte(b.String())
}

// decode decodes body in content coding ce with a decoder independent of
// the encoders under test where there is one (the standard library's gzip).
func decode(t testing.TB, ce string, body []byte) []byte {
	t.Helper()
	r, err := decoder(ce, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", ce, err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decoding %s: %v", ce, err)
	}
	return out
}

// decoder returns a streaming decoder of coding ce reading r; "" is
// identity.
func decoder(ce string, r io.Reader) (io.Reader, error) {
	switch ce {
	case "":
		return r, nil
	case "gzip":
		return gzip.NewReader(r)
	case "br":
		return brotli.NewReader(r), nil
	case "zstd":
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	}
	return nil, fmt.Errorf("unknown coding %q", ce)
}

// serve starts a loopback server with the middleware built from o
// around h.
func serve(t testing.TB, o Options, h http.Handler) *httptest.Server {
	t.Helper()
	mw, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mw(h))
	// The client sends Accept-Encoding only when a test does, and never
	// decodes by itself.
	srv.Client().Transport.(*http.Transport).DisableCompression = true
	t.Cleanup(srv.Close)
	return srv
}

// response is an answer with its body as sent and decoded.
type response struct {
	status  int
	header  http.Header
	raw     []byte // as sent
	decoded []byte // Content-Encoding undone
}

// fetch sends method path to srv with the header pairs hdr and reads the
// whole answer.
func fetch(t testing.TB, srv *httptest.Server, method, path string, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw, decoded: raw}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && ce != "identity" && method != http.MethodHead {
		r.decoded = decode(t, ce, raw)
	}
	return r
}

// withGot1xx returns ctx with a client trace reporting informational
// responses to f.
func withGot1xx(ctx context.Context, f func(code int, h http.Header)) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			f(code, http.Header(h))
			return nil
		},
	})
}
