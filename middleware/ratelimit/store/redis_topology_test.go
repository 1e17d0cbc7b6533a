package store_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-proxy/gatehouse/config"
	"github.com/gatehouse-proxy/gatehouse/internal/testkit"
	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/gcra"
	"github.com/gatehouse-proxy/gatehouse/middleware/ratelimit/store"
)

// topologyTimeout bounds each decision in these tests: more than the
// default 100ms, as a cluster or Sentinel client's first decision also
// learns the topology, on a machine that may be busy.
const topologyTimeout = 500 * time.Millisecond

func newTopologyStore(t *testing.T, o store.RedisOptions) *store.Redis {
	t.Helper()
	if o.Prefix == "" {
		o.Prefix = "test:rl:"
	}
	if o.Timeout == 0 {
		o.Timeout = topologyTimeout
	}
	s, err := store.NewRedis(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// redisKey is the bucket's key as the store writes it (see TestRedisDecides).
func redisKey(b store.Bucket) string { return "test:rl:" + b.Policy + "\x00=" + b.Key }

// spendBurst checks that l admits exactly its burst to b, counting down,
// then refuses for about an interval and refuses a spend over the burst
// for the window.
func spendBurst(t *testing.T, s *store.Redis, b store.Bucket, l gcra.Limit) {
	t.Helper()
	ctx := context.Background()
	for i := range l.Burst {
		r, err := s.Take(ctx, b, l, 1)
		if err != nil || !r.Allowed || r.Remaining != l.Burst-1-i {
			t.Fatalf("%q: spend %d: %+v, %v; want allowed, %d remaining", b.Key, i, r, err, l.Burst-1-i)
		}
	}
	r, err := s.Take(ctx, b, l, 1)
	if err != nil || r.Allowed || r.RetryAfter > l.Interval || r.RetryAfter < l.Interval-time.Minute {
		t.Errorf("%q: the spend past the burst: %+v, %v; want refused for about %v", b.Key, r, err, l.Interval)
	}
	if r, err := s.Take(ctx, b, l, l.Burst+1); err != nil || r.Allowed || r.RetryAfter != l.Window() {
		t.Errorf("%q: a spend over the burst: %+v, %v; want refused for the window", b.Key, r, err)
	}
}

// holder is the index of the node serving key's slot, failing the test
// unless key is there.
func holder(t *testing.T, rc *testkit.RedisCluster, key string) int {
	t.Helper()
	at := rc.NodeOf(key)
	if rc.Nodes[at].Do("EXISTS", key) != "1" {
		t.Fatalf("key %q is not on node %d, which serves its slot", key, at)
	}
	return at
}

// A Redis Cluster given as an address list: the store is a cluster
// client, each decision one script call on the node owning the bucket's
// slot (the script touches KEYS[1] only, so it never spans slots).
func TestRedisCluster(t *testing.T) {
	start := time.Now()
	rc := testkit.StartRedisCluster(t, 3)
	t.Logf("cluster of 3 up in %v", time.Since(start).Round(time.Millisecond))
	// Two of the three nodes: the third is found from CLUSTER SLOTS.
	s := newTopologyStore(t, store.RedisOptions{Addresses: rc.Addrs()[:2]})
	l := gcra.Per(10, time.Hour, 3) // nothing comes back during the test

	t.Run("decides on every node", func(t *testing.T) {
		keys := []string{strings.Repeat("k", 500), "{tenant}a", "{", "}{", "203.0.113.9"}
		for i := range 12 {
			keys = append(keys, "198.51.100."+strconv.Itoa(i))
		}
		on := map[int]int{}
		for _, k := range keys {
			b := store.Bucket{Policy: "routes[0]/0", Key: k}
			spendBurst(t, s, b, l)
			if len(k) <= 64 {
				on[holder(t, rc, redisKey(b))]++
			}
		}
		if len(on) != 3 {
			t.Errorf("buckets per node %v; want keys on all 3 nodes", on)
		}
		// A key value holding a hash tag picks its bucket's slot, which is
		// harmless: a decision touches that one key only.
		if a, b := rc.Nodes[0].Do("CLUSTER", "KEYSLOT", redisKey(store.Bucket{Policy: "routes[0]/0", Key: "{tenant}a"})),
			rc.Nodes[0].Do("CLUSTER", "KEYSLOT", "tenant"); a != b {
			t.Errorf("slot of a key value tagged {tenant}: %s, want the tag's %s", a, b)
		}
	})

	t.Run("one configuration endpoint with Cluster", func(t *testing.T) {
		// One node alone would be a plain client, answered MOVED for the
		// keys of the other nodes' slots; Cluster makes it a cluster client.
		one := newTopologyStore(t, store.RedisOptions{Addresses: rc.Addrs()[:1], Cluster: true})
		on := map[int]bool{}
		for i := range 12 {
			b := store.Bucket{Policy: "endpoint", Key: "198.51.100." + strconv.Itoa(i)}
			spendBurst(t, one, b, l)
			on[holder(t, rc, redisKey(b))] = true
		}
		if len(on) != 3 {
			t.Errorf("buckets on nodes %v; want all 3", on)
		}
	})

	t.Run("distinct keys spread over the nodes", func(t *testing.T) {
		before := make([]int, len(rc.Nodes))
		for i, n := range rc.Nodes {
			before[i], _ = strconv.Atoi(n.Do("DBSIZE"))
		}
		const keys = 300
		for i := range keys {
			b := store.Bucket{Policy: "spread", Key: fmt.Sprintf("client-%d", i)}
			r, err := s.Take(context.Background(), b, l, 1)
			if err != nil || !r.Allowed || r.Remaining != 2 {
				t.Fatalf("%s: %+v, %v; want its own allowance", b.Key, r, err)
			}
		}
		total := 0
		for i, n := range rc.Nodes {
			size, _ := strconv.Atoi(n.Do("DBSIZE"))
			added := size - before[i]
			total += added
			if added < keys/10 {
				t.Errorf("node %d got %d of %d keys; want them spread over every node", i, added, keys)
			}
		}
		if total != keys {
			t.Errorf("the nodes got %d keys, want %d", total, keys)
		}
	})

	t.Run("two stores share the limits", func(t *testing.T) {
		stores := []*store.Redis{s, newTopologyStore(t, store.RedisOptions{Addresses: rc.Addrs()})}
		l := gcra.Per(50, time.Hour, 50)
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 50 {
					b := store.Bucket{Policy: "shared", Key: strconv.Itoa((g + i) % 4)}
					r, err := stores[g%2].Take(context.Background(), b, l, 1)
					if err != nil {
						t.Error(err)
						return
					}
					if r.Allowed {
						allowed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		if n := allowed.Load(); n != 4*50 {
			t.Errorf("400 spends over 4 buckets of burst 50 through two stores admitted %d, want 200", n)
		}
	})

	t.Run("a node down costs only its slots", func(t *testing.T) {
		// One bucket per node, found by where its key lands.
		per := map[int]store.Bucket{}
		for i := 0; len(per) < 3; i++ {
			b := store.Bucket{Policy: "outage", Key: strconv.Itoa(i)}
			if _, err := s.Take(context.Background(), b, l, 1); err != nil {
				t.Fatal(err)
			}
			if at := holder(t, rc, redisKey(b)); per[at] == (store.Bucket{}) {
				per[at] = b
			}
		}
		rc.Nodes[2].Kill()
		for at, b := range per {
			start := time.Now()
			r, err := s.Take(context.Background(), b, l, 1)
			switch {
			case at == 2 && err == nil:
				t.Errorf("a bucket on the killed node: %+v, want an error", r)
			case at == 2 && time.Since(start) > 3*topologyTimeout:
				t.Errorf("a bucket on the killed node took %v, want it bounded by the timeout", time.Since(start))
			case at != 2 && (err != nil || !r.Allowed || r.Remaining != 1):
				t.Errorf("a bucket on live node %d: %+v, %v; want its second spend allowed", at, r, err)
			}
		}
		// Back, empty but owning its slots again: its bucket starts afresh.
		start := time.Now()
		rc.Nodes[2].Restart()
		deadline := time.Now().Add(15 * time.Second)
		for {
			r, err := s.Take(context.Background(), per[2], l, 1)
			if err == nil {
				if !r.Allowed || r.Remaining != 2 {
					t.Errorf("the restarted node's bucket: %+v, want a fresh allowance", r)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the store did not recover within 15s of the node's restart: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("the restarted node decided again after %v", time.Since(start).Round(time.Millisecond))
	})

	t.Run("config", func(t *testing.T) {
		s := storeFromConfig(t, "addresses: ["+strings.Join(rc.Addrs(), ", ")+"]")
		spendBurst(t, s, store.Bucket{Policy: "config", Key: "k"}, l)
	})
}

// Sentinels given with the master's name: the store asks them where the
// master is. The first address is a Sentinel that is gone.
func TestRedisSentinel(t *testing.T) {
	start := time.Now()
	rs := testkit.StartRedisSentinel(t, 0)
	t.Logf("master and sentinel up in %v", time.Since(start).Round(time.Millisecond))
	sentinels := []string{deadAddr(t), rs.Sentinel.Addr()}
	s := newTopologyStore(t, store.RedisOptions{Addresses: sentinels, MasterName: testkit.RedisMasterName})
	l := gcra.Per(10, time.Hour, 3)

	t.Run("decides on the master", func(t *testing.T) {
		b := store.Bucket{Policy: "routes[0]/0", Key: "203.0.113.9"}
		spendBurst(t, s, b, l)
		if ttl := rs.Master.Do("PTTL", redisKey(b)); !strings.HasPrefix(ttl, "1") || len(ttl) != len("1080000") {
			t.Errorf("PTTL of the bucket on the master = %q, want about 1080000 (18 minutes)", ttl)
		}
	})

	t.Run("an unknown master name fails", func(t *testing.T) {
		s := newTopologyStore(t, store.RedisOptions{Addresses: sentinels, MasterName: "nope"})
		if r, err := s.Take(context.Background(), store.Bucket{Policy: "p", Key: "k"}, l, 1); err == nil {
			t.Errorf("a master no Sentinel knows: %+v, want an error", r)
		}
	})

	t.Run("config", func(t *testing.T) {
		s := storeFromConfig(t, "addresses: ["+strings.Join(sentinels, ", ")+"], master_name: "+testkit.RedisMasterName)
		spendBurst(t, s, store.Bucket{Policy: "config", Key: "k"}, l)
	})
}

// When the master dies the Sentinel promotes its replica and the store
// follows; buckets replicated before the failover keep their state.
func TestRedisSentinelFailover(t *testing.T) {
	rs := testkit.StartRedisSentinel(t, 1)
	s := newTopologyStore(t, store.RedisOptions{Addresses: []string{rs.Sentinel.Addr()}, MasterName: testkit.RedisMasterName})
	l := gcra.Per(10, time.Hour, 3)
	spent := store.Bucket{Policy: "failover", Key: "spent"}
	spendBurst(t, s, spent, l)
	// Replication is asynchronous: wait until the replica holds the bucket.
	// (WAIT would not do: it counts the writes of its own connection.)
	for deadline := time.Now().Add(5 * time.Second); rs.Replicas[0].Do("EXISTS", redisKey(spent)) != "1"; {
		if time.Now().After(deadline) {
			t.Fatal("the spent bucket did not reach the replica within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	rs.Master.Kill()
	start := time.Now()
	deadline := start.Add(20 * time.Second)
	for {
		r, err := s.Take(context.Background(), spent, l, 1)
		if err == nil {
			if r.Allowed {
				t.Errorf("the spent bucket after the failover: %+v, want still refused (its state replicated)", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store did not recover within 20s of the master's death: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("the store decided again %v after the master was killed", time.Since(start).Round(time.Millisecond))
	if got, want := rs.MasterAddr(), rs.Replicas[0].Addr(); got != want {
		t.Errorf("the sentinel reports the master at %s, want the promoted replica %s", got, want)
	}
	fresh := store.Bucket{Policy: "failover", Key: "fresh"}
	spendBurst(t, s, fresh, l)
	if ttl := rs.Replicas[0].Do("PTTL", redisKey(fresh)); !strings.HasPrefix(ttl, "1") {
		t.Errorf("PTTL of a new bucket on the promoted replica = %q, want about 1080000", ttl)
	}
}

// storeFromConfig loads a config whose rate_limits.c.redis is the given
// flow mapping's body, which must validate, and opens the store as the
// gateway does.
func storeFromConfig(t *testing.T, redis string) *store.Redis {
	t.Helper()
	src := "listeners: [{address: \":8080\"}]\n" +
		"upstreams: {api: {targets: [http://a:1]}}\n" +
		"rate_limits: {c: {redis: {" + redis + ", prefix: 'test:rl:', timeout: 500ms}}}\n" +
		"routes: [{upstream: api, rate_limit: [{rate: 10/h, store: c}]}]\n"
	c, err := config.Load([]byte(src), "gh.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("Load:\n%s\n%v", src, err)
	}
	r := c.RateLimits["c"].Redis
	addrs := r.Addresses
	if r.Address != "" {
		addrs = []string{r.Address}
	}
	return newTopologyStore(t, store.RedisOptions{
		Addresses: addrs, MasterName: r.MasterName, Username: r.Username, Password: r.Password,
		DB: r.DB, TLS: r.TLS, Prefix: r.Prefix, Timeout: r.Timeout.D(),
	})
}

// deadAddr is a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
