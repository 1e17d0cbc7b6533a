// Package proxy forwards requests to upstream targets, and only that: it
// builds the outbound request from the inbound one without touching the
// inbound one (hop-by-hop headers dropped, forwarding headers that cannot
// be spoofed, the route's path rewrite), picks targets from the pool,
// retries where a retry is safe, and relays the answer: headers,
// streamed bodies, trailers, and upgraded connections (Tunnel).
//
// The engine that talks to a target is a Forwarder; HTTPForwarder is
// net/http's Transport (TLS and h2c targets), proxy/h1client Gatehouse's
// own HTTP/1.1 client. Both report failures as *Error with the phase
// they happened in, and the handler hands the final one to the funnel
// (package funnel), which answers and logs. Request facts (who asked,
// which route) come from package reqinfo.
package proxy
