package testkit

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// redisTopologyTimeout bounds how long a cluster or a Sentinel may take
// to come up (each step: redis-cli's cluster creation, the nodes agreeing,
// a replica's first sync, the Sentinel seeing everything).
const redisTopologyTimeout = 30 * time.Second

// RedisCluster is a real Redis Cluster on loopback ports, for one test:
// masters only (no replicas), every hash slot assigned. Each node is a
// Redis like StartRedis's (Kill, Restart, Do), with its own temporary
// directory holding its cluster config file, which a Restart keeps: the
// node comes back empty but owning the same slots.
type RedisCluster struct {
	Nodes []*Redis
}

// StartRedisCluster starts n redis-servers in cluster mode, joins them
// with redis-cli --cluster create and returns once every node reports
// cluster_state:ok; they are killed when the test ends. n must be at
// least 3, as redis-cli wants. A missing redis-server or redis-cli (which
// Debian ships in redis-tools, a dependency of redis-server) fails the
// test; it is never skipped.
func StartRedisCluster(t testing.TB, n int) *RedisCluster {
	t.Helper()
	if n < 3 {
		t.Fatalf("a Redis Cluster needs at least 3 masters, asked for %d", n)
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Fatalf("redis-cli not found (%v): apt-get install redis-tools (redis-server depends on it)", err)
	}
	c := &RedisCluster{}
	for range n {
		c.Nodes = append(c.Nodes, startRedis(t, func(r *Redis) {
			conf := filepath.Join(r.dir, "nodes.conf")
			_ = os.Remove(conf) // a failed try may have written one for another port
			// The bus port is chosen, not port+10000, which may be taken or
			// past 65535.
			bus := freePort(t)
			for bus == r.port {
				bus = freePort(t)
			}
			r.extra = []string{"--cluster-enabled", "yes", "--cluster-config-file", conf,
				"--cluster-port", strconv.Itoa(bus)}
		}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), redisTopologyTimeout)
	defer cancel()
	args := append([]string{"--cluster", "create"}, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(redisTopologyTimeout)
	for _, node := range c.Nodes {
		waitRedis(t, deadline, "cluster node "+node.Addr()+" ok", func() (bool, string) {
			info := node.Do("CLUSTER", "INFO")
			return strings.Contains(info, "cluster_state:ok"), info
		})
	}
	return c
}

// Addrs are the nodes' host:port, in the order of Nodes.
func (c *RedisCluster) Addrs() []string {
	addrs := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// NodeOf is the index in Nodes of the node serving key's hash slot, as
// the nodes themselves report it (CLUSTER KEYSLOT, then each node's own
// line of CLUSTER NODES). Every node must be up.
func (c *RedisCluster) NodeOf(key string) int {
	t := c.Nodes[0].t
	t.Helper()
	slot, err := strconv.Atoi(c.Nodes[0].Do("CLUSTER", "KEYSLOT", key))
	if err != nil {
		t.Fatalf("CLUSTER KEYSLOT %q: %v", key, err)
	}
	for i, n := range c.Nodes {
		for line := range strings.Lines(n.Do("CLUSTER", "NODES")) {
			f := strings.Fields(line)
			if len(f) < 8 || !strings.Contains(f[2], "myself") {
				continue
			}
			for _, r := range f[8:] { // "0-5460", or one slot "7"
				lo, hi, isRange := strings.Cut(r, "-")
				if !isRange {
					hi = lo
				}
				a, errA := strconv.Atoi(lo)
				b, errB := strconv.Atoi(hi)
				if errA == nil && errB == nil && a <= slot && slot <= b {
					return i
				}
			}
		}
	}
	t.Fatalf("no node of %v serves slot %d (of key %q)", c.Addrs(), slot, key)
	return -1
}

// RedisMasterName is the name RedisSentinel's Sentinel knows its master by.
const RedisMasterName = "mymaster"

// RedisSentinel is a real master, its replicas and one Sentinel watching
// them (quorum 1) on loopback ports, for one test. The Sentinel counts a
// master down after 2s of silence and then promotes a replica, so
// killing Master stages a failover (a few seconds). Every process is a
// Redis (Kill, Do); a replica's Restart brings it back as an empty
// master of its own, and the Sentinel's reads back the state it keeps in
// its config file.
type RedisSentinel struct {
	Master   *Redis
	Replicas []*Redis
	Sentinel *Redis
}

// StartRedisSentinel starts a master, replicas replicas of it (each
// returning once its first sync is done) and a Sentinel, and returns once
// the Sentinel reports the master up and every replica linked; all are
// killed when the test ends. A missing redis-server fails the test.
func StartRedisSentinel(t testing.TB, replicas int) *RedisSentinel {
	t.Helper()
	s := &RedisSentinel{Master: StartRedis(t)}
	s.Master.Do("CONFIG", "SET", "repl-diskless-sync-delay", "0") // sync at once, not after 5s
	masterPort := strconv.Itoa(s.Master.port)
	for range replicas {
		r := StartRedis(t)
		r.Do("REPLICAOF", "127.0.0.1", masterPort)
		s.Replicas = append(s.Replicas, r)
	}
	deadline := time.Now().Add(redisTopologyTimeout)
	// The Sentinel finds replicas in the master's INFO, which it reads at
	// once and then every 10s: they must be linked before it starts.
	for _, r := range s.Replicas {
		waitRedis(t, deadline, "replica "+r.Addr()+" in sync", func() (bool, string) {
			info := r.Do("INFO", "replication")
			return strings.Contains(info, "master_link_status:up"), info
		})
	}
	// After the first sync the master streams writes to a replica only
	// once it counts it online.
	waitRedis(t, deadline, "the master streaming to every replica", func() (bool, string) {
		info := s.Master.Do("INFO", "replication")
		return strings.Count(info, ",state=online,") == replicas, info
	})
	s.Sentinel = startRedis(t, func(r *Redis) {
		r.conf = filepath.Join(r.dir, "sentinel.conf")
		// 2s down, not less: on a busy machine a master that only stalled
		// must not be failed over before the test kills it.
		conf := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]s 1\n"+
			"sentinel down-after-milliseconds %[1]s 2000\n"+
			"sentinel failover-timeout %[1]s 10000\n", RedisMasterName, masterPort)
		if err := os.WriteFile(r.conf, []byte(conf), 0o600); err != nil {
			t.Fatalf("write %s: %v", r.conf, err)
		}
		// notice, so the failure log shows +sdown, +switch-master and the rest.
		r.extra = []string{"--sentinel", "--loglevel", "notice"}
	})
	waitRedis(t, deadline, "the sentinel seeing the master up", func() (bool, string) {
		m := fields(s.Sentinel.Do("SENTINEL", "master", RedisMasterName))
		return m["flags"] == "master" && m["num-slaves"] == strconv.Itoa(replicas), fmt.Sprint(m)
	})
	waitRedis(t, deadline, "the sentinel seeing every replica linked", func() (bool, string) {
		reply := s.Sentinel.Do("SENTINEL", "replicas", RedisMasterName)
		linked := 0
		for _, r := range records(reply) {
			if r["flags"] == "slave" && r["master-link-status"] == "ok" {
				linked++
			}
		}
		return linked == replicas, reply
	})
	return s
}

// MasterAddr is the master's host:port as the Sentinel reports it now.
func (s *RedisSentinel) MasterAddr() string {
	host, port, _ := strings.Cut(s.Sentinel.Do("SENTINEL", "get-master-addr-by-name", RedisMasterName), " ")
	return host + ":" + port
}

// waitRedis polls ok every 20ms until it holds, failing the test with
// what it last saw once deadline passes.
func waitRedis(t testing.TB, deadline time.Time, what string, ok func() (bool, string)) {
	t.Helper()
	for {
		done, saw := ok()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: timed out; last saw:\n%s", what, saw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fields reads a flat reply of names and values, as Do returns it (no
// value holds a space; an empty one leaves two spaces in a row).
func fields(reply string) map[string]string {
	rs := records(reply)
	if len(rs) == 0 {
		return map[string]string{}
	}
	return rs[0]
}

// records reads a list of flat name and value replies, as Do returns it
// flattened, each record starting with its "name".
func records(reply string) []map[string]string {
	words := strings.Split(reply, " ")
	var rs []map[string]string
	for i := 0; i+1 < len(words); i += 2 {
		if words[i] == "name" || rs == nil {
			rs = append(rs, map[string]string{})
		}
		rs[len(rs)-1][words[i]] = words[i+1]
	}
	return rs
}
