package upstream

import (
	"slices"
	"strconv"
	"time"
)

// Spec is an upstream as Build compiles it: plain data, already validated.
// Package config owns the rules (names, ranges, defaults) and checks every
// one of them with the file and line at fault; Build trusts its input and
// re-checks nothing it does not need to run. A Spec config would refuse
// gives a pool that misbehaves (a zero interval, an unreachable target) but
// never a crash. Build keeps no reference to the Spec.
type Spec struct {
	// Targets are the backends, in order: at least one, all of one of
	// the Schemes, no two with the same scheme://host:port.
	Targets []TargetSpec
	// Balance is the policy that picks a target per request.
	Balance Balance
	// HashKey is what BalanceHash hashes.
	HashKey HashKey
	// Sticky is the cookie of BalanceSticky.
	Sticky StickyCookie
	// Passive is ejection on failed requests.
	Passive Passive
	// Active is periodic probing; nil means none.
	Active *Active
	// Retry bounds the tries per request and the retry budget.
	Retry Retry
	// InsecureSkipVerify says the https targets are reached without
	// certificate verification; Build then logs a warning, every time.
	InsecureSkipVerify bool
}

// TargetSpec is one backend.
type TargetSpec struct {
	// URL is scheme://host[:port], optionally with a trailing "/"; the
	// port defaults to 80 for http and 443 for https (h2c has none).
	URL string
	// Weight is the relative share of traffic; 0 counts as 1.
	Weight int
}

// StickyCookie is the session cookie of BalanceSticky.
type StickyCookie struct {
	// Name is the cookie name, an HTTP token.
	Name string
	// MaxAge of the cookie; 0 makes it a session cookie.
	MaxAge time.Duration
	// Secure marks the cookie Secure.
	Secure bool
}

// Passive configures ejection on failed requests (see passive.go).
type Passive struct {
	// MaxFails consecutive failures eject a target; 0 turns passive
	// checks off.
	MaxFails int
	// Cooldown is the longest backoff between an ejected target's trial
	// requests; with MaxFails set it must be positive.
	Cooldown time.Duration
	// FailStatus are response statuses that count as failures; codes
	// outside 100..599 are ignored.
	FailStatus []int
}

// Active configures periodic probes (see health.go).
type Active struct {
	// Path is the request target probed, starting with "/".
	Path string
	// Host is the Host header of a probe; "" means the target's.
	Host string
	// Interval between probes, positive; Timeout of one probe, positive.
	Interval, Timeout time.Duration
	// ExpectStatus reports whether a probe's answer status means healthy.
	// It must be safe for concurrent use. Nil accepts every status, so
	// only a probe that gets no answer fails.
	ExpectStatus func(status int) bool
	// HealthyThreshold consecutive passed probes bring a target back;
	// UnhealthyThreshold consecutive failed ones take it down. Both at
	// least 1.
	HealthyThreshold, UnhealthyThreshold int
}

// Retry bounds retries to other targets.
type Retry struct {
	// Attempts is the most tries per request, the first included; it is
	// clamped to 1..MaxAttempts.
	Attempts int
	// Budget is the fraction of requests that may be retries, over and
	// above MinPerSecond; 0 allows only those.
	Budget float64
	// MinPerSecond retries are always allowed.
	MinPerSecond int
}

// Balance names a balancing policy. The zero value is BalanceRoundRobin.
type Balance uint8

// The policies, one small file each.
const (
	BalanceRoundRobin Balance = iota // smooth weighted round robin
	BalanceLeastConn                 // fewest in-flight requests per weight
	BalanceP2C                       // power of two choices
	BalanceHash                      // weighted rendezvous hashing on HashKey
	BalanceSticky                    // a cookie pins the client to a target
)

var balanceNames = [...]string{
	BalanceRoundRobin: "round_robin",
	BalanceLeastConn:  "least_conn",
	BalanceP2C:        "p2c",
	BalanceHash:       "hash",
	BalanceSticky:     "sticky",
}

// String is the policy's name in configuration.
func (b Balance) String() string { return nameOf(balanceNames[:], int(b)) }

// Balancers returns the names of the policies, in Balance order: the names
// config must accept for balance. The slice is the caller's.
func Balancers() []string { return slices.Clone(balanceNames[:]) }

// BalanceByName returns the policy called name, and whether there is one.
func BalanceByName(name string) (Balance, bool) {
	i := slices.Index(balanceNames[:], name)
	return Balance(max(i, 0)), i >= 0
}

// KeyKind says where the hash balancer finds its key. The zero value is
// KeyClientIP.
type KeyKind uint8

// The kinds of hash key.
const (
	KeyClientIP KeyKind = iota // the client's address
	KeyHeader                  // a request header's first value
	KeyCookie                  // a cookie's value
)

var keyKindNames = [...]string{KeyClientIP: "client_ip", KeyHeader: "header", KeyCookie: "cookie"}

// String is the kind's name in configuration.
func (k KeyKind) String() string { return nameOf(keyKindNames[:], int(k)) }

// HashKeyKinds returns the names of the key kinds, in KeyKind order. The
// slice is the caller's.
func HashKeyKinds() []string { return slices.Clone(keyKindNames[:]) }

// KeyKindByName returns the kind called name, and whether there is one.
func KeyKindByName(name string) (KeyKind, bool) {
	i := slices.Index(keyKindNames[:], name)
	return KeyKind(max(i, 0)), i >= 0
}

// HashKey is a parsed hash key: the client IP, or a header or cookie Name.
// A request without the header or cookie (or with it empty) is hashed by
// its client IP.
type HashKey struct {
	Kind KeyKind
	// Name is the header (any case) or cookie name; unused for
	// KeyClientIP.
	Name string
}

// Schemes of targets. All targets of a pool share one.
const (
	// SchemeHTTP is HTTP/1.1 over TCP.
	SchemeHTTP = "http"
	// SchemeHTTPS is TLS, with HTTP/2 or HTTP/1.1 chosen by ALPN.
	SchemeHTTPS = "https"
	// SchemeH2C is cleartext HTTP/2 with prior knowledge (RFC 9113
	// section 3.3), as gRPC servers speak it.
	SchemeH2C = "h2c"
)

// schemes are the target schemes and their default ports ("" = none).
var schemes = [...]struct{ name, port string }{
	{SchemeHTTP, "80"}, {SchemeHTTPS, "443"}, {SchemeH2C, ""},
}

// Schemes returns the target schemes Build accepts. The slice is the
// caller's.
func Schemes() []string {
	out := make([]string, len(schemes))
	for i, s := range schemes {
		out[i] = s.name
	}
	return out
}

// nameOf returns names[i], or "unknown(i)" for a value without a name.
func nameOf(names []string, i int) string {
	if i < len(names) {
		return names[i]
	}
	return "unknown(" + strconv.Itoa(i) + ")"
}
