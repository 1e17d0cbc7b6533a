// Package urlpath puts request paths into the one form the router matches
// on, and decodes that form for file-system lookup.
//
// A path is normal when it starts with "/", has no "//", no "." or ".."
// segment, no escape of an unreserved character (ALPHA, DIGIT, '-', '.',
// '_', '~'), only upper-case hex digits in escapes, no "%00", and no raw
// control byte (below 0x20, or 0x7f). An escaped slash "%2F" stays escaped
// and is part of its segment, so "/api%2F..%2Fadmin" is one segment and can
// never climb out of "/api". A trailing slash is kept.
//
// Everything here is a pure function of its arguments and safe for
// concurrent use.
package urlpath
