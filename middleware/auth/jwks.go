package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// JWKSOptions configure the key set a JWT method fetches. The zero
// value of every duration means its default.
type JWKSOptions struct {
	// URL is the JSON Web Key Set (RFC 7517 section 5), e.g. an IdP's
	// jwks_uri; "" for none.
	URL string
	// Client fetches it; nil means one of the key set's own, with
	// Timeout and RootCAs.
	Client *http.Client
	// Timeout bounds one fetch by the key set's own client; default 10 s.
	Timeout time.Duration
	// RootCAs verify an https URL's server for the key set's own client;
	// nil means the system roots.
	RootCAs *x509.CertPool
	// Refresh is how long a set is used when the answer has no
	// Cache-Control max-age; default 10 minutes.
	Refresh time.Duration
	// MinRefresh and MaxRefresh bound max-age (and Refresh): default
	// 1 minute and 24 hours. After a failed fetch the set is retried
	// sooner (1 s, doubling up to MinRefresh) while the last good set
	// stays in use.
	MinRefresh, MaxRefresh time.Duration
	// MissInterval is how often at most a token's unknown kid makes the
	// set be fetched again before its time; default 30 s. Tokens with
	// unknown kids in between are refused without a fetch, so made-up
	// kids cannot hammer the IdP.
	MissInterval time.Duration
	// Wait bounds how long a request waits for a fetch it needs (the
	// first one, or one for an unknown kid), within its own context;
	// default 2 s.
	Wait time.Duration
}

// KeySet is a JSON Web Key Set fetched in the background, which several
// JWT methods (and the runtimes a reload replaces) may share, so that a
// reload neither fetches it again nor loses the last good copy while the
// IdP is down. Safe for concurrent use; Close stops the fetching.
type KeySet struct{ j *jwks }

// NewKeySet starts fetching the key set o.URL names. now is the clock
// (nil: time.Now); log gets fetch failures (nil discards them).
func NewKeySet(o JWKSOptions, now func() time.Time, log *slog.Logger) (*KeySet, error) {
	if o.URL == "" {
		return nil, errors.New("jwks: no URL")
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &KeySet{j: newJWKS(o, now, log)}, nil
}

// Close stops fetching and waits for the fetcher to end. Safe to call
// more than once.
func (s *KeySet) Close() error {
	s.j.close()
	return nil
}

// jwks keeps a fetched key set. One goroutine fetches: first at once,
// then when the set's max-age has passed (by the injected clock, checked
// on a timer and by every lookup) or when a lookup misses a kid. Lookups
// never fetch themselves; they read the current set (an atomic pointer)
// and, when they need a fresher one, kick the fetcher and wait for the
// round that started after the kick.
type jwks struct {
	o      JWKSOptions
	now    func() time.Time
	log    *slog.Logger
	set    atomic.Pointer[keySet]
	next   atomic.Int64 // when the next fetch is due, unix ns by now()
	kick   chan struct{}
	first  chan struct{} // closed when the first fetch has ended
	cancel context.CancelFunc
	done   chan struct{}
	// transport is the client's when jwks made it, its idle
	// connections closed with it.
	transport *http.Transport

	mu       sync.Mutex
	round    chan struct{} // closed when the next fetch to start has ended
	lastMiss time.Time
	lastErr  error // of the last fetch, nil after a good one
}

type keySet struct {
	keys []*verifyKey
}

func newJWKS(o JWKSOptions, now func() time.Time, log *slog.Logger) *jwks {
	o.Refresh = orDefault(o.Refresh, 10*time.Minute)
	o.MinRefresh = orDefault(o.MinRefresh, time.Minute)
	o.MaxRefresh = orDefault(o.MaxRefresh, 24*time.Hour)
	o.MissInterval = orDefault(o.MissInterval, 30*time.Second)
	o.Wait = orDefault(o.Wait, 2*time.Second)
	var own *http.Transport
	if o.Client == nil {
		own = http.DefaultTransport.(*http.Transport).Clone()
		if o.RootCAs != nil {
			own.TLSClientConfig = &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12}
		}
		o.Client = &http.Client{Timeout: orDefault(o.Timeout, 10*time.Second), Transport: own, CheckRedirect: noDowngrade}
	}
	ctx, cancel := context.WithCancel(context.Background())
	j := &jwks{o: o, now: now, log: log, kick: make(chan struct{}, 1), first: make(chan struct{}),
		cancel: cancel, done: make(chan struct{}), round: make(chan struct{}), transport: own}
	go j.run(ctx)
	return j
}

// noDowngrade follows at most 3 redirects, never from https to http: a
// key set fetched over https must not come from anyone on the path.
func noDowngrade(req *http.Request, via []*http.Request) error {
	switch {
	case len(via) >= 3:
		return errors.New("more than 3 redirects")
	case via[0].URL.Scheme == "https" && req.URL.Scheme != "https":
		return fmt.Errorf("refusing the redirect from https to %s", req.URL.Redacted())
	}
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// close stops the fetcher and waits for it to end.
func (j *jwks) close() {
	j.cancel()
	<-j.done
	if j.transport != nil {
		j.transport.CloseIdleConnections()
	}
}

func (j *jwks) run(ctx context.Context) {
	defer close(j.done)
	backoff := time.Second
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-j.kick:
		case <-timer.C:
			if j.now().UnixNano() < j.next.Load() && j.set.Load() != nil {
				timer.Reset(j.untilNext())
				continue
			}
		}
		j.mu.Lock()
		round := j.round
		j.round = make(chan struct{})
		j.mu.Unlock()

		set, ttl, err := j.fetch(ctx)
		if ctx.Err() != nil {
			close(round)
			return
		}
		j.mu.Lock()
		j.lastErr = err
		j.mu.Unlock()
		if err != nil {
			ttl = backoff
			backoff = min(2*backoff, j.o.MinRefresh)
			j.log.Warn("jwks: fetch failed; keeping the last good key set", "url", j.o.URL, "retry_in", ttl, "err", err)
		} else {
			backoff = time.Second
			j.set.Store(set)
		}
		j.next.Store(j.now().Add(ttl).UnixNano())
		close(round)
		select {
		case <-j.first:
		default:
			close(j.first)
		}
		timer.Reset(j.untilNext())
	}
}

func (j *jwks) untilNext() time.Duration {
	return max(time.Duration(j.next.Load()-j.now().UnixNano()), 10*time.Millisecond)
}

// keys returns the set's keys with this kid (every key for kid ""). An
// unknown kid makes the set be fetched again, at most once per
// MissInterval, waiting up to Wait for it.
func (j *jwks) keys(ctx context.Context, kid string) ([]*verifyKey, error) {
	set := j.set.Load()
	if set == nil {
		j.await(ctx, j.first)
		if set = j.set.Load(); set == nil {
			return nil, fmt.Errorf("the key set %s is not loaded yet: %w", j.o.URL, j.err())
		}
	}
	j.refreshIfStale()
	if found := set.find(kid); len(found) > 0 || kid == "" {
		return found, nil
	}
	j.mu.Lock()
	now := j.now()
	if !j.lastMiss.IsZero() && now.Sub(j.lastMiss) < j.o.MissInterval {
		j.mu.Unlock()
		return nil, fmt.Errorf("unknown kid %q (the key set was fetched again less than %v ago)", kid, j.o.MissInterval)
	}
	j.lastMiss = now
	round := j.round
	j.poke()
	j.mu.Unlock()
	j.await(ctx, round)
	if found := j.set.Load().find(kid); len(found) > 0 {
		return found, nil
	}
	return nil, fmt.Errorf("unknown kid %q", kid)
}

// refreshIfStale has the set fetched again in the background once its
// time is up; the current set is used meanwhile. Pushing next on first
// means one request asks, not all of them; the fetch sets it again when
// it ends.
func (j *jwks) refreshIfStale() {
	if now, next := j.now(), j.next.Load(); now.UnixNano() >= next &&
		j.next.CompareAndSwap(next, now.Add(j.o.MinRefresh).UnixNano()) {
		j.poke()
	}
}

func (j *jwks) poke() {
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

// await waits for c to close, at most Wait and while ctx lasts.
func (j *jwks) await(ctx context.Context, c <-chan struct{}) {
	t := time.NewTimer(j.o.Wait)
	defer t.Stop()
	select {
	case <-c:
	case <-t.C:
	case <-ctx.Done():
	case <-j.done:
	}
}

func (j *jwks) err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.lastErr == nil {
		return errors.New("the first fetch has not answered yet")
	}
	return j.lastErr
}

func (s *keySet) find(kid string) []*verifyKey {
	if kid == "" {
		return s.keys
	}
	var found []*verifyKey
	for _, k := range s.keys {
		if k.id == kid {
			found = append(found, k)
		}
	}
	return found
}

// maxJWKSBytes bounds a key set's body; real ones are a few KiB.
const maxJWKSBytes = 1 << 20

// fetch gets the set and how long to keep it.
func (j *jwks) fetch(ctx context.Context) (*keySet, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.o.URL, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := j.o.Client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("GET %s: %s", j.o.URL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("GET %s: %w", j.o.URL, err)
	}
	if len(body) > maxJWKSBytes {
		return nil, 0, fmt.Errorf("GET %s: the key set is over %d bytes", j.o.URL, maxJWKSBytes)
	}
	// A map, not a struct: member names are case-sensitive (RFC 7517 5).
	var doc map[string]json.RawMessage
	var keys []json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, 0, fmt.Errorf("GET %s: not a JSON Web Key Set: %w", j.o.URL, err)
	}
	if err := json.Unmarshal(doc["keys"], &keys); err != nil || keys == nil {
		return nil, 0, fmt.Errorf("GET %s: not a JSON Web Key Set: no keys array", j.o.URL)
	}
	set := &keySet{}
	for i, raw := range keys {
		k, err := parseJWK(raw)
		if err != nil {
			j.log.Debug("jwks: key skipped", "url", j.o.URL, "index", i, "err", err)
			continue
		}
		set.keys = append(set.keys, k)
	}
	if len(set.keys) == 0 {
		return nil, 0, fmt.Errorf("GET %s: no usable signature keys among %d", j.o.URL, len(keys))
	}
	return set, j.ttl(resp.Header), nil
}

// ttl is the answer's max-age less its Age, within the bounds; no-store
// or no-cache mean the minimum.
func (j *jwks) ttl(h http.Header) time.Duration {
	ttl := j.o.Refresh
	for d := range strings.SplitSeq(strings.Join(h.Values("Cache-Control"), ","), ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "max-age":
			if n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64); err == nil && n >= 0 {
				age, _ := strconv.ParseInt(h.Get("Age"), 10, 64)
				ttl = time.Duration(max(n-max(age, 0), 0)) * time.Second
			}
		case "no-store", "no-cache":
			ttl = 0
		}
	}
	return min(max(ttl, j.o.MinRefresh), j.o.MaxRefresh)
}

// parseJWK reads one signature key: RSA (of at least 2048 bits), EC on
// P-256, P-384 or P-521, or OKP Ed25519. Symmetric ("oct") keys are
// refused: a key set is published, and anyone holding an HMAC key can
// sign; so is a key with private members (d, and RSA's p, q...), which
// anyone who fetched the set could sign with. A key for encryption (use
// "enc", key_ops without "verify") is skipped. A key naming its alg
// verifies only that algorithm. Member names are case-sensitive and
// unknown members ignored (RFC 7517 4): "Use" is not "use"; a null
// member is an absent one.
func parseJWK(raw []byte) (*verifyKey, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	for name, v := range m {
		if string(v) == "null" {
			delete(m, name) // null is no value: the member is absent
		}
	}
	var k struct{ kty, kid, alg, use, crv, n, e, x, y string }
	for name, to := range map[string]*string{"kty": &k.kty, "kid": &k.kid, "alg": &k.alg, "use": &k.use,
		"crv": &k.crv, "n": &k.n, "e": &k.e, "x": &k.x, "y": &k.y} {
		if v, ok := m[name]; ok {
			if err := json.Unmarshal(v, to); err != nil {
				return nil, fmt.Errorf("member %s is not a string", name)
			}
		}
	}
	var ops []string
	if v, ok := m["key_ops"]; ok {
		if err := json.Unmarshal(v, &ops); err != nil || ops == nil {
			return nil, fmt.Errorf("kid %q: key_ops is not an array of strings", k.kid)
		}
	}
	if _, ok := m["use"]; ok && k.use != "sig" || ops != nil && !slices.Contains(ops, "verify") {
		return nil, fmt.Errorf("kid %q is not for signatures", k.kid)
	}
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
		if _, ok := m[private]; ok {
			return nil, fmt.Errorf("kid %q holds private key material (%s); a published private key proves nothing", k.kid, private)
		}
	}
	var pub any
	var err error
	switch k.kty {
	case "RSA":
		pub, err = jwkRSA(k.n, k.e)
	case "EC":
		pub, err = jwkEC(k.crv, k.x, k.y)
	case "OKP":
		var x []byte
		if x, err = b64(k.x); err == nil && (k.crv != "Ed25519" || len(x) != ed25519.PublicKeySize) {
			err = fmt.Errorf("OKP key on %q with %d bytes is not an Ed25519 key", k.crv, len(x))
		}
		pub = ed25519.PublicKey(x)
	default:
		err = fmt.Errorf("key type %q is not supported", k.kty)
	}
	if err != nil {
		return nil, fmt.Errorf("kid %q: %w", k.kid, err)
	}
	var algs []string
	if _, ok := m["alg"]; ok {
		algs = []string{k.alg}
	}
	return newVerifyKey(k.kid, pub, algs)
}

func jwkRSA(n, e string) (*rsa.PublicKey, error) {
	nb, err := b64(n)
	if err != nil {
		return nil, err
	}
	eb, err := b64(e)
	if err != nil {
		return nil, err
	}
	exp := new(big.Int).SetBytes(eb)
	if !exp.IsInt64() || exp.Int64() < 3 || exp.Int64() > 1<<31-1 || exp.Bit(0) == 0 {
		return nil, errors.New("RSA exponent out of range")
	}
	return &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(exp.Int64())}, nil
}

func jwkEC(crv, x, y string) (*ecdsa.PublicKey, error) {
	curves := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}
	c, ok := curves[crv]
	if !ok {
		return nil, fmt.Errorf("curve %q is not supported", crv)
	}
	xb, err := b64(x)
	if err != nil {
		return nil, err
	}
	yb, err := b64(y)
	if err != nil {
		return nil, err
	}
	size := (c.Params().BitSize + 7) / 8
	if len(xb) != size || len(yb) != size {
		return nil, fmt.Errorf("%s coordinates must be %d bytes", crv, size)
	}
	// Checks that the point is on the curve.
	return ecdsa.ParseUncompressedPublicKey(c, append(append([]byte{4}, xb...), yb...))
}

// b64 decodes base64url, tolerating the padding some servers add.
func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
