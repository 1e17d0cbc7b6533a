package store

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// RedisOptions configures a Redis store.
type RedisOptions struct {
	// Address is the server's host:port. Required.
	Address string
	// Username and Password authenticate; empty means none (Username
	// empty with a Password is the "default" user).
	Username string
	Password string
	// DB is the database number.
	DB int
	// TLS dials the server over TLS, checking its certificate against the
	// system roots and the host of Address.
	TLS bool
	// Prefix starts every Redis key and the invalidation channel; empty
	// means "gatehouse:cache:". Caches sharing one Redis need distinct
	// prefixes.
	Prefix string
	// DialTimeout bounds connecting; zero means 200 ms.
	DialTimeout time.Duration
	// Timeout bounds each operation (one round trip, or one chunk of a
	// body), so that an outage costs a request at most this; zero means
	// 200 ms.
	Timeout time.Duration
	// MaxObjectBytes bounds one body; zero or less means 64 MiB.
	MaxObjectBytes int64
	// ChunkBytes is the size of the chunks a body is stored in; zero or
	// less means 256 KiB.
	ChunkBytes int
	// Now tells the time for the store's own expiry checks; nil means
	// time.Now. Redis expires keys by its own clock.
	Now func() time.Time
}

// Redis is a Store in Redis, shared by every Gatehouse instance that uses
// the same server and prefix. The key layout is in the package doc.
//
// Every operation runs under the options' Timeout and fails with the
// error of Redis or of the network: the cache takes it as a miss. A body
// is read chunk by chunk; if a chunk is gone by the time it is read
// (expired, evicted, or retired by a purge more than 30 seconds earlier)
// Body.WriteTo fails with ErrBodyGone after writing part of the body, and
// the caller must abort the response it was sending.
type Redis struct {
	c         *redis.Client
	prefix    string
	timeout   time.Duration
	maxObject int64
	chunk     int
	now       func() time.Time
}

// ErrBodyGone is returned by the Body.WriteTo of a Redis variant whose
// chunks vanished from Redis while it was read.
var ErrBodyGone = errors.New("store: stored body vanished while being read")

// retireGrace is how long a dropped or replaced body's chunks stay, for
// readers already streaming it.
const retireGrace = 30 * time.Second

// NewRedis returns a Redis store. It does not connect: a server that is
// down when Gatehouse starts costs misses, not the start.
func NewRedis(o RedisOptions) (*Redis, error) {
	if o.Address == "" {
		return nil, errors.New("store: redis address is empty")
	}
	host, _, err := net.SplitHostPort(o.Address)
	if err != nil {
		return nil, fmt.Errorf("store: redis address %q: %w", o.Address, err)
	}
	if o.Prefix == "" {
		o.Prefix = "gatehouse:cache:"
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 200 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = 200 * time.Millisecond
	}
	if o.MaxObjectBytes <= 0 {
		o.MaxObjectBytes = 64 << 20
	}
	if o.ChunkBytes <= 0 {
		o.ChunkBytes = 256 << 10
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	ro := &redis.Options{
		Addr:                  o.Address,
		Username:              o.Username,
		Password:              o.Password,
		DB:                    o.DB,
		DialTimeout:           o.DialTimeout,
		DialerRetries:         1,
		ReadTimeout:           o.Timeout,
		WriteTimeout:          o.Timeout,
		PoolTimeout:           o.Timeout,
		ContextTimeoutEnabled: true,
		// A retry would spend the same operation's time budget again.
		MaxRetries:               -1,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
	if o.TLS {
		ro.TLSConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	return &Redis{
		c:         redis.NewClient(ro),
		prefix:    o.Prefix,
		timeout:   o.Timeout,
		maxObject: o.MaxObjectBytes,
		chunk:     o.ChunkBytes,
		now:       o.Now,
	}, nil
}

func (r *Redis) indexKey(key string) string { return r.prefix + "k:" + key }
func (r *Redis) tagKey(tag string) string   { return r.prefix + "t:" + tag }
func (r *Redis) channel() string            { return r.prefix + "invalidate" }

func (r *Redis) chunkKey(bodyID string, n int) string {
	return r.prefix + "b:" + bodyID + ":" + strconv.Itoa(n)
}

// op bounds one operation by the store's timeout.
func (r *Redis) op(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.timeout)
}

// Lookup reads the key's index in one round trip; bodies are read when
// written out.
func (r *Redis) Lookup(ctx context.Context, key string) ([]Variant, error) {
	ctx, cancel := r.op(ctx)
	defer cancel()
	fields, err := r.c.HGetAll(ctx, r.indexKey(key)).Result()
	if err != nil {
		return nil, fmt.Errorf("redis lookup %q: %w", key, err)
	}
	now := r.now()
	var out []Variant
	for id, s := range fields {
		h, err := decodeHeader(s)
		if err != nil || !h.expires.After(now) {
			continue
		}
		out = append(out, Variant{
			ID:    id,
			Entry: Entry{Meta: h.meta, Tags: h.tags, Expires: h.expires},
			Body:  &redisBody{r: r, id: h.bodyID, chunks: h.chunks, size: h.size},
		})
	}
	return out, nil
}

// Create starts storing a variant under a fresh body ID; nothing is sent
// until the first chunk is full.
func (r *Redis) Create(ctx context.Context, key, id string, e Entry, size int64) (Writer, error) {
	if size > r.maxObject {
		return nil, ErrTooLarge
	}
	if len(e.Tags) > maxTags {
		return nil, fmt.Errorf("store: %d tags, at most %d", len(e.Tags), maxTags)
	}
	var raw [bodyIDLen / 2]byte
	_, _ = rand.Read(raw[:]) // never fails
	w := &redisWriter{r: r, ctx: ctx, key: key, id: id, e: e, bodyID: hex.EncodeToString(raw[:])}
	if size >= 0 && size < int64(r.chunk) {
		w.buf = make([]byte, 0, size)
	}
	return w, nil
}

// Update replaces a variant's metadata and expiry and moves its chunks'
// expiry with it.
func (r *Redis) Update(ctx context.Context, key, id string, e Entry) error {
	ctx, cancel := r.op(ctx)
	defer cancel()
	err := updateScript.Run(ctx, r.c, []string{r.indexKey(key)},
		r.prefix, id, expiryField(e.Expires), e.Meta, retireGrace.Milliseconds(), key, r.now().UnixMilli()).Err()
	if err != nil {
		return fmt.Errorf("redis update %q: %w", key, err)
	}
	return nil
}

// Delete drops every variant of key.
func (r *Redis) Delete(ctx context.Context, key string) error {
	ctx, cancel := r.op(ctx)
	defer cancel()
	if err := deleteScript.Run(ctx, r.c, []string{r.indexKey(key)}, r.prefix, retireGrace.Milliseconds()).Err(); err != nil {
		return fmt.Errorf("redis delete %q: %w", key, err)
	}
	return nil
}

// PurgePrefix walks the keys under prefix with SCAN and drops each; every
// round trip has its own timeout, the whole walk runs until ctx ends.
func (r *Redis) PurgePrefix(ctx context.Context, prefix string) (int, error) {
	pattern := globEscape(r.indexKey(prefix)) + "*"
	n := 0
	var cursor uint64
	for {
		octx, cancel := r.op(ctx)
		keys, next, err := r.c.Scan(octx, cursor, pattern, 512).Result()
		cancel()
		if err != nil {
			return n, fmt.Errorf("redis purge prefix %q: %w", prefix, err)
		}
		for _, k := range keys {
			octx, cancel := r.op(ctx)
			dropped, err := deleteScript.Run(octx, r.c, []string{k}, r.prefix, retireGrace.Milliseconds()).Int()
			cancel()
			if err != nil {
				return n, fmt.Errorf("redis purge prefix %q: %w", prefix, err)
			}
			if dropped > 0 {
				n++
			}
		}
		if cursor = next; cursor == 0 {
			return n, nil
		}
	}
}

// PurgeTag walks the tag's set with SSCAN and drops the tagged variants
// of each key in it.
func (r *Redis) PurgeTag(ctx context.Context, tag string) (int, error) {
	tk := r.tagKey(tag)
	n := 0
	var cursor uint64
	for {
		octx, cancel := r.op(ctx)
		keys, next, err := r.c.SScan(octx, tk, cursor, "", 512).Result()
		cancel()
		if err != nil {
			return n, fmt.Errorf("redis purge tag %q: %w", tag, err)
		}
		for _, key := range keys {
			octx, cancel := r.op(ctx)
			dropped, err := purgeTagScript.Run(octx, r.c, []string{r.indexKey(key), tk},
				r.prefix, retireGrace.Milliseconds(), tag, key).Int()
			cancel()
			if err != nil {
				return n, fmt.Errorf("redis purge tag %q: %w", tag, err)
			}
			n += dropped
		}
		if cursor = next; cursor == 0 {
			return n, nil
		}
	}
}

// Close closes the connections.
func (r *Redis) Close() error { return r.c.Close() }

// MaxObjectBytes is the largest body the store keeps.
func (r *Redis) MaxObjectBytes() int64 { return r.maxObject }

// ping checks that the server answers.
func (r *Redis) ping(ctx context.Context) error {
	ctx, cancel := r.op(ctx)
	defer cancel()
	return r.c.Ping(ctx).Err()
}

// publish sends an invalidation to every subscribed instance.
func (r *Redis) publish(ctx context.Context, msg string) error {
	ctx, cancel := r.op(ctx)
	defer cancel()
	return r.c.Publish(ctx, r.channel(), msg).Err()
}

// subscribe listens on the invalidation channel.
func (r *Redis) subscribe(ctx context.Context) *redis.PubSub {
	return r.c.Subscribe(ctx, r.channel())
}

var _ Store = (*Redis)(nil)

// RedisLog routes go-redis's own messages (dial failures during an
// outage, about one a second) to log at debug level, instead of its
// default of stderr. go-redis keeps one logger per process, so the
// program's main installs it: redis.SetLogger(store.RedisLog(log)). The
// outage itself is logged once, at warn, by Tiered.
func RedisLog(log *slog.Logger) interface {
	Printf(ctx context.Context, format string, v ...any)
} {
	return redisLog{log}
}

type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}
