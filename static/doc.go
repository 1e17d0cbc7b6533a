// Package static serves files from one directory, safely.
//
// Every file is opened through an [os.Root], so nothing outside the served
// directory can be reached: not with "..", not with percent-encoded dots, not
// through a symbolic link that points outside (links that stay inside the
// root are followed). Files are streamed with [http.ServeContent], which
// provides Content-Type (extension first, then sniffing), Last-Modified,
// conditional requests and byte ranges; the handler adds a strong ETag built
// from the modification time and size, so If-None-Match, If-Match and
// If-Range work too. A Range header whose unit is not "bytes" is ignored
// and the whole file served, as RFC 9110 asks (ServeContent alone would
// answer 416).
//
// # Precompressed files
//
// A file "name" may have precompressed siblings "name.zst", "name.br" and
// "name.gz". A GET or HEAD without a byte range from a client that
// accepts one of their codings (compress.Negotiate, zstd, br, gzip
// breaking ties) is answered with the sibling: Content-Encoding set, the
// file's Content-Type, and the sibling's own strong ETag (its mtime and
// size, with the coding appended, so never the file's), Content-Length and
// Last-Modified; ranges are not offered. A sibling counts only when it is
// a regular file at least as new as the file, so a stale one is never
// sent. Range requests are always served from the file itself: its
// offsets are the ones a client can know. Whenever a sibling exists, the
// response (identity included) has "Vary: Accept-Encoding". The compress
// middleware leaves such a response alone, as it has a Content-Encoding.
// Options.NoPrecompressed turns siblings off.
//
// # Status codes
//
// The handler answers with a short plain-text body naming the status and
// never echoes a file-system path.
//
//   - 405 with "Allow: GET, HEAD" for any other method.
//   - 400 for a path that cannot be a file name: a path not starting with "/",
//     a malformed percent-escape, an encoded slash ("%2F"), a backslash, or a
//     NUL or other control character, encoded or not.
//   - 404 for a "." or ".." segment (literal or decoded), an empty segment
//     ("//"), any segment starting with "." except ".well-known", a name that
//     does not exist, a symbolic link leading outside the root, a file that is
//     not regular (device, FIFO, socket), a file requested with a trailing
//     slash, and a directory with neither an index file nor browsing enabled.
//     404 never says whether the name exists.
//   - 403 when the operating system denies access to an existing name.
//   - 301 for a directory requested without a trailing slash; the Location is
//     relative ("./name/"), so it stays right when a route prefix was
//     stripped, and the query string is kept.
//   - 416 for an unsatisfiable byte range, 412 for a failed If-Match or
//     If-Unmodified-Since, 304 for a matching If-None-Match or
//     If-Modified-Since (all from ServeContent).
//   - 500 for any other failure, including requests after Close.
//
// Directory listings (Options.Browse) hide dotfiles (".well-known"
// included), entries that could not be served (links leading outside the
// root, special files) and show directories first, then files, each sorted
// by name, with size and modification time.
package static
