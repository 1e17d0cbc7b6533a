// Package router picks the rule for a request from its host, path, method,
// headers and any further condition a rule carries. A Router is built once
// per configuration by New, is immutable afterwards, and Match does not
// allocate.
//
// # Hosts
//
// A rule's Hosts are exact names ("api.example.com") or wildcards
// ("*.example.com"); a rule without Hosts matches any host. Names are
// compared case-insensitively and a trailing dot is ignored, both in rules
// and in requests. A wildcard matches a name with one or more labels before
// its suffix: "*.example.com" matches "x.example.com" and "x.y.example.com"
// but not "example.com". IPv6 addresses may be written with or without
// brackets ("[::1]" or "::1") and are compared as text, without
// canonicalization. Rule hosts must not carry a port.
//
// The request's host is the Host header or URL authority as received: Match
// drops a port ("example.com:8080", "[::1]:8080"), the brackets around an
// IPv6 address, and one trailing dot. A host longer than 253 bytes, which
// is no valid DNS name, matches only rules without Hosts.
//
// # Paths
//
// A rule's Prefix must start with "/" and be normalized (package urlpath);
// a trailing slash is ignored, so "/api/" and "/api" are the same prefix.
// A prefix matches at segment boundaries: "/api" matches "/api", "/api/"
// and "/api/users", but not "/apiary" nor "/api%2F..". The prefix "/"
// matches every path. Match expects the path already normalized by
// urlpath.Normalize.
//
// # Conditions
//
// Methods, when given, restrict a rule to those methods, compared
// case-sensitively as RFC 9110 says (write "GET", not "get"). Every Header
// must match: its Name is compared in canonical form (as http.Header keys
// are), and the request must carry that header with a value exactly equal
// to Value, or with any value when Value is "*". Only whole header values
// are compared; a comma-separated list is not split. Cond, when set, is a
// condition of the caller's own (such as a TLS fact), asked last, only of a
// rule whose every other condition matched.
//
// # Precedence
//
// Rules are grouped by host pattern; a rule with several Hosts belongs to
// each of their groups. For a request, the groups whose pattern matches its
// host are tried in this order:
//
//  1. the exact host;
//  2. the wildcards, from the longest suffix to the shortest
//     ("*.a.example.com" before "*.example.com");
//  3. the rules without Hosts.
//
// The first group that has a matching rule decides; a group in which no
// rule matches the path and conditions is passed over for the next.
// Within a group, the rules whose prefix matches the path are tried from
// the longest prefix to the shortest; among rules with the same prefix, a
// rule with more conditions comes first, counting one for a non-empty
// Methods list, one per Header and one for a Cond; remaining ties go by
// position in the slice given to New, earlier first. The first rule whose
// conditions also match wins. This order is total, so the result never
// depends on map order or on anything but the rules and the request.
package router
