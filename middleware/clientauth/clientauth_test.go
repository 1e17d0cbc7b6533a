package clientauth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-proxy/gatehouse/funnel"
	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
	"github.com/gatehouse-proxy/gatehouse/middleware/clientauth"
)

func TestNewRefusesBadCA(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(bad, []byte("not a certificate"), 0o600)
	for _, file := range []string{bad, filepath.Join(t.TempDir(), "missing.pem")} {
		if _, err := clientauth.New(clientauth.Options{Route: "r", CA: file}, nil); err == nil || !strings.Contains(err.Error(), "client_auth.ca") {
			t.Errorf("CA %s: %v, want an error naming client_auth.ca", file, err)
		}
	}
}

// Without a verified certificate the request never reaches the route's
// action, and the refusal is a 403 of its own class naming the route.
func TestRefusesWithoutCertificate(t *testing.T) {
	ca := testkit.NewCA(t, "route CA")
	var failed error
	mw, err := clientauth.New(clientauth.Options{Route: "admin", CA: ca.CertFile}, func(w http.ResponseWriter, r *http.Request, err error) { failed = err })
	if err != nil {
		t.Fatal(err)
	}
	reached := false
	mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true })).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if reached || !errors.Is(failed, clientauth.ErrClientCert) || funnel.Status(failed) != 403 || !strings.Contains(failed.Error(), `"admin"`) {
		t.Errorf("reached %v, error %v; want a 403 ErrClientCert naming the route", reached, failed)
	}
}
