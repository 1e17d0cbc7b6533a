// Package store holds cached responses for the cache middleware: a
// memory store bounded by bytes, a Redis store shared by several
// Gatehouse instances, and a tiered store that puts memory in front of
// Redis. A store knows nothing of HTTP: it keeps, per primary key (one
// URL), a few variants, each an opaque metadata blob (the cache encodes
// status, header and times into it) and a body, and drops them when they
// expire. The cache middleware decides what is stored and what a stored
// response may answer.
//
// Stores outlive reloads: they are created once per named cache and held
// by the gateway's environment.
//
// # Memory
//
// Memory (memory.go) holds each key's variants as one immutable set in an
// otter W-TinyLFU cache weighed in bytes; bodies are lists of 32 KiB
// chunks; a tag index (tags.go) serves PurgeTag.
//
// # Redis key layout
//
// Redis (redis.go) stores, under its Prefix P (default "gatehouse:cache:"):
//
//	P + "k:" + key          hash, the key's index: variant ID -> header
//	                        (expiry, body ID, chunk count, size, tags,
//	                        Meta; see header in redis_codec.go)
//	P + "b:" + bodyID + ":" + n
//	                        string, chunk n (from 0) of a body, ChunkBytes
//	                        long but the last
//	P + "t:" + tag          set of the keys with a variant tagged tag
//	P + "invalidate"        pub/sub channel of the Tiered stores
//
// Keys are the cache's keys (URLs) in clear text, so PurgePrefix is a SCAN
// with MATCH (glob characters escaped). A body gets a fresh random 128-bit
// ID at every Create, so concurrent writers of one variant never mix
// chunks. Its chunks are written first, each with PEXPIREAT at the
// variant's expiry; Commit then adds the header to the index in one Lua
// script, which also drops the variant it replaces, expired ones and,
// past MaxVariants, the one that expires first, adds the key to its tags'
// sets, and extends the index's and the sets' expiry to the latest of
// their variants. Every key thus expires on its own. A dropped body's
// chunks are not deleted but given 30 seconds more, so a reader already
// streaming it can finish. Needs Redis 7.0 or later (PEXPIRETIME);
// standalone or a primary, not Redis Cluster (the scripts touch keys of
// several slots).
//
// # Tiered
//
// Tiered (tiered.go) puts a Memory in front of a Redis and broadcasts
// deletes and purges to the other instances over the channel; see its
// doc for what a Redis outage does.
package store

import (
	"context"
	"errors"
	"io"
	"time"
)

// Entry describes one stored variant, without its body.
type Entry struct {
	// Meta is the cache's encoding of the response (status, header,
	// request and response times, the Vary names and values). Opaque to
	// the store; never modified after it is handed over, by the store or
	// by the caller, and read only in what Lookup returns (a memory store
	// shares it between lookups). The same holds for Tags.
	Meta []byte
	// Tags are the surrogate keys the response carried; PurgeTag drops
	// every variant with the tag.
	Tags []string
	// Expires is when the store may drop the variant (the end of its
	// freshness lifetime plus the longest stale use the cache allows).
	// The store must not return it after that.
	Expires time.Time
	// Value is the cache's decoded form of Meta. A store that keeps
	// entries in this process keeps it and returns it with the entry, so
	// a hit needs no decoding; a store that serializes (Redis) drops it
	// and returns nil.
	Value any
}

// Variant is one stored response of a primary key.
type Variant struct {
	// ID tells the variants of one key apart: the cache derives it from
	// the request header values the response's Vary names ("" without
	// Vary).
	ID string
	Entry
	// Body is the stored body. Never nil.
	Body Body
}

// Body is a stored body, complete: a variant is visible only once its
// whole body is stored.
type Body interface {
	// Size is the body's length in bytes.
	Size() int64
	// WriteTo copies the body to w, stopping when ctx ends. A body that
	// lives in memory writes without copying. It may be called more than
	// once, and after the variant was dropped. A body read from Redis may
	// fail after writing part of itself (a chunk expired or was purged
	// meanwhile, ErrBodyGone, or Redis stopped answering): a caller that
	// has sent part of a response must then abort it, not end it.
	WriteTo(ctx context.Context, w io.Writer) (int64, error)
}

// Writer receives the body of a variant being stored. The variant
// becomes visible at Commit; until then Lookup returns the variants that
// were there before. Exactly one of Commit and Abort must be called.
type Writer interface {
	// Write appends body bytes. It fails with ErrTooLarge once the body
	// passes the store's maximum object size; the caller then Aborts (the
	// response still reaches the client, it is only not stored).
	io.Writer
	// Commit stores the variant, replacing any with the same key and ID.
	Commit(ctx context.Context) error
	// Abort drops what was written.
	Abort()
}

// Store is a cache store. Implementations are safe for concurrent use.
// Every method may fail (a Redis outage, say); the cache then acts as if
// nothing were stored, so a failing store costs hits, never answers.
type Store interface {
	// Lookup returns the unexpired variants stored under key, at most
	// MaxVariants of them, in no particular order; none is not an error.
	Lookup(ctx context.Context, key string) ([]Variant, error)
	// Create starts storing a variant of key. size is the body length
	// when known in advance (Content-Length), or -1; a known size above
	// the maximum object size fails at once with ErrTooLarge.
	Create(ctx context.Context, key, id string, e Entry, size int64) (Writer, error)
	// Update replaces the Meta, Value and Expires of a stored variant
	// with e's, keeping its body and tags (a 304 from the origin freshened
	// it). A variant that is gone is not an error.
	Update(ctx context.Context, key, id string, e Entry) error
	// Delete drops every variant of key.
	Delete(ctx context.Context, key string) error
	// PurgePrefix drops every key that starts with prefix and returns how
	// many keys it dropped.
	PurgePrefix(ctx context.Context, prefix string) (int, error)
	// PurgeTag drops every variant tagged tag and returns how many.
	PurgeTag(ctx context.Context, tag string) (int, error)
	// Close stops the store's background work and releases connections.
	Close() error
}

// MaxVariants bounds the variants kept per key: storing one more drops
// the one that expires first, so a header with many values (User-Agent
// named by Vary, say) cannot fill the store through one URL.
const MaxVariants = 16

// ErrTooLarge is returned by Create and Writer.Write for a body larger
// than the store keeps.
var ErrTooLarge = errors.New("store: object larger than max_object_bytes")
