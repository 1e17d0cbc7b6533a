package reqlimit

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/funnel"
)

// FuzzLimits: a request parsed by net/http from a method, a target and
// header lines, against random limits. The answer is the first refusal
// in the documented order, or the handler; a 405's Allow lists the
// methods; and where the package documentation says the header count is
// the bytes of the field lines, it is.
func FuzzLimits(f *testing.F) {
	f.Add("GET", "/x?y=1", "Host: example.com\nX-A: 1\nX-A: 2", uint16(0), uint16(5), "POST,GET")
	f.Add("POST", "/upload", "Host: a\nTransfer-Encoding: chunked\nContent-Length: 3", uint16(40), uint16(0), "")
	f.Add("PUT", "http://h/abs", "Host: other", uint16(10), uint16(12), "PUT")
	f.Add("HEAD", "*", "host: A\npragma: no-cache", uint16(30), uint16(1), "GET")
	f.Fuzz(func(t *testing.T, method, target, lines string, maxHeader, maxURI uint16, methods string) {
		var block strings.Builder
		exact := strings.HasPrefix(target, "/") || target == "*" // the Host is the header's
		for l := range strings.SplitSeq(lines, "\n") {
			name, value, ok := strings.Cut(l, ":")
			if !ok {
				continue
			}
			value = strings.Trim(value, " \t")
			if strings.HasPrefix(name, " ") || strings.HasPrefix(name, "\t") {
				exact = false // obs-fold: net/http joins the line to the one before
			}
			switch http.CanonicalHeaderKey(name) {
			case "Content-Length", "Trailer", "Pragma":
				exact = false // net/http may remove or add a field
			case "Host":
				exact = exact && value != ""
			}
			block.WriteString(name + ": " + value + "\r\n")
		}
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(method + " " + target + " HTTP/1.1\r\n" + block.String() + "\r\n")))
		if err != nil {
			return
		}
		delete(r.Header, "Host") // as the server does
		if n := headerBytes(r); exact && n != block.Len() {
			t.Fatalf("header counted %d bytes, the field lines are %d:\n%s", n, block.Len(), block.String())
		}
		o := Options{MaxHeaderBytes: int(maxHeader), MaxURIBytes: int(maxURI), Methods: strings.Split(methods, ",")}
		var allow []string // the listed methods in order, HEAD after GET unless listed
		for _, m := range o.Methods {
			if m != "" && !slices.Contains(allow, m) {
				allow = append(allow, m)
				if m == "GET" && !slices.Contains(o.Methods, "HEAD") {
					allow = append(allow, "HEAD")
				}
			}
		}
		want := 200
		switch {
		case maxURI > 0 && len(target) > int(maxURI):
			want = 414
		case maxHeader > 0 && headerBytes(r) > int(maxHeader):
			want = 431
		case len(allow) > 0 && !slices.Contains(o.Methods, method) && !(method == "HEAD" && slices.Contains(o.Methods, "GET")):
			want = 405
		}
		mw := New(o, (&funnel.Funnel{}).Fail)
		if mw == nil {
			if want != 200 {
				t.Fatalf("no middleware, but %d expected", want)
			}
			return
		}
		reached := false
		rec := httptest.NewRecorder()
		mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true })).ServeHTTP(rec, r)
		if rec.Code != want || reached != (want == 200) {
			t.Fatalf("%s %q: %d, reached %v; want %d", method, target, rec.Code, reached, want)
		}
		if want == 405 && rec.Header().Get("Allow") != strings.Join(allow, ", ") {
			t.Fatalf("Allow %q, want %q", rec.Header().Get("Allow"), allow)
		}
	})
}
