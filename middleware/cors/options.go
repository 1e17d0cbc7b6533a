package cors

import "time"

// Options configure a route's CORS policy. Validated by config; New
// refuses what would be unsafe or cannot match anything.
type Options struct {
	// AllowOrigins are the origins whose pages may read the route's
	// responses. Each entry is one of:
	//
	//   - an origin, "https://app.example.com" or "http://localhost:3000":
	//     scheme://host[:port], no path, no trailing slash. It matches the
	//     request's Origin compared as a serialized origin: scheme and host
	//     case-insensitively, a default port (80 for http, 443 for https)
	//     the same as none;
	//   - a wildcard subdomain, "https://*.example.com[:port]": any origin
	//     of that scheme and port whose host ends in ".example.com", at any
	//     depth ("https://a.b.example.com"), but not "https://example.com"
	//     itself nor "https://evil-example.com". The part after "*." must
	//     be a host name of at least two labels (or "localhost");
	//   - a regular expression (RE2 syntax) after "~", written anchored:
	//     "~^https://[a-z]+\.example\.org$". New refuses one that does not
	//     start with ^ and end with $, and compiles it anchored at both
	//     ends whatever it says (so "^a|b$" cannot match "xb"). It is
	//     matched against the serialized origin (lowercase scheme and
	//     host, no default port), never against a malformed Origin;
	//   - "*", alone: every origin, answered with
	//     Access-Control-Allow-Origin: * on every response (Origin or not,
	//     so the response does not vary and needs no Vary: Origin). Not
	//     allowed with AllowCredentials.
	//
	// "null" (the origin of sandboxed frames, file: pages and some
	// redirects) is refused: anyone can make a page whose origin is null.
	// Empty is an error: a CORS policy that allows no origin.
	AllowOrigins []string

	// AllowMethods are the methods a preflight may ask for, compared
	// case-sensitively as the Fetch standard does, after the six methods
	// browsers normalize (DELETE, GET, HEAD, OPTIONS, POST, PUT) are
	// written in upper case. Nil means GET, HEAD and POST. "*", alone,
	// allows any method (the preflight's answer names the method asked
	// for); not allowed with AllowCredentials. The list does not limit
	// actual requests: by the time one arrives the browser has sent it,
	// and only its Origin decides whether the page may read the answer.
	AllowMethods []string

	// AllowHeaders are the request headers a preflight may ask for
	// (Access-Control-Request-Headers), compared case-insensitively. Nil
	// means none beyond those browsers send without asking (the
	// CORS-safelisted Accept, Accept-Language, Content-Language and a
	// form or text Content-Type); a JSON body needs "Content-Type", a
	// bearer token "Authorization". "*", alone, allows any header (the
	// answer repeats the headers asked for); not allowed with
	// AllowCredentials.
	AllowHeaders []string

	// ExposeHeaders are the response headers, beyond the CORS-safelisted
	// ones (Cache-Control, Content-Language, Content-Length,
	// Content-Type, Expires, Last-Modified, Pragma), that the page's
	// script may read. "*", alone, exposes all; not allowed with
	// AllowCredentials.
	ExposeHeaders []string

	// AllowCredentials lets pages send cookies, HTTP authentication and
	// client certificates with their requests and read the answers
	// (Access-Control-Allow-Credentials: true). The allowed origin is then
	// always named, never "*".
	AllowCredentials bool

	// MaxAge is how long a browser may cache a preflight's answer
	// (Access-Control-Max-Age, in whole seconds, rounded up). Zero omits
	// the header (browsers then cache for 5 seconds; Chromium caps any
	// value at 2 hours, Firefox at 24); negative sends 0, asking browsers
	// not to cache.
	MaxAge time.Duration

	// AllowPrivateNetwork answers a preflight carrying
	// Access-Control-Request-Private-Network: true with
	// Access-Control-Allow-Private-Network: true (Private Network Access:
	// a public page calling a gateway on a private address). Without it
	// such a preflight is disallowed.
	AllowPrivateNetwork bool
}
