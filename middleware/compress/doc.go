// Package compress compresses responses with zstd, brotli (br) or gzip,
// the coding chosen from the request's Accept-Encoding by Negotiate.
//
// # What is compressed
//
// A response is compressed when all of these hold:
//
//   - the client accepts one of Options.Encodings (Negotiate), and the
//     request is not HEAD and has no Range header: the byte offsets of a
//     range, and the origin's Content-Range and Accept-Ranges, are those
//     of the identity body;
//   - the status is not 1xx (101 included), 204, 206 or 304;
//   - its Content-Type is one of Options.Types (without case, parameters
//     ignored); a response without one is sniffed first, as net/http
//     would (it cannot once the body is compressed);
//   - it has no Content-Encoding, or "identity", which is taken to mean
//     none and replaced: a body already encoded, such as a precompressed
//     file from the static handler, is never encoded again;
//   - its Cache-Control has no no-transform;
//   - the body is at least Options.MinBytes: by its Content-Length when it
//     has one; otherwise the header is held back with the first writes,
//     up to MinBytes, until the body proves long enough, a Flush asks for
//     it to be sent (the length is then unknown, so it is compressed), or
//     the handler returns (then the whole body was short). An event stream
//     (text/event-stream) is compressed at once and never held.
//
// # The header
//
// Every response of a compressible type, compressed or not, gets
// "Vary: Accept-Encoding" (unless a Vary already names it, or is "*"), so
// that caches downstream keep the variants apart; so does a 304 of such a
// type or of none. A compressed response loses Content-Length and
// Accept-Ranges, gets Content-Encoding, and its strong ETag becomes weak
// (see weakenETag for why weak rather than a suffix); a 304 to a request
// that would have been compressed has its ETag weakened the same way, so
// it names the representation the client holds. A HEAD response only
// gets Vary: it is never compressed, so it keeps the identity length and
// ETag.
//
// # Streaming
//
// Flush, through http.Flusher or http.ResponseController, flushes the
// encoder and then the writers below, so that what was written reaches
// the client decodable; every write of a compressed event stream is
// flushed that way, so events arrive one by one. Large bodies stream
// through the encoder without being held. ReadFrom keeps sendfile for
// bodies that are not compressed. Hijack, Unwrap (for
// http.ResponseController's deadlines) and the 101 of an upgrade pass
// through untouched.
//
// # Cost
//
// Encoders are pooled per coding and level, writers per middleware, so a
// compressed response allocates only its weakened ETag; zstd encodes on
// the caller's goroutine and starts none. See bench_test.go.
package compress
