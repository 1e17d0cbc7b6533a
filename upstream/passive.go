package upstream

import "time"

// Passive health is a circuit breaker per target, fed by the forwarder's
// report of every attempt (Succeeded, Failed).
//
//   - In service, MaxFails consecutive failures eject the target, unless
//     no other target of the pool is in service: the last one is never
//     ejected on passive failures alone (nginx likewise ignores max_fails
//     for a single server), since refusing every request helps no one.
//   - An ejected target waits a backoff, firstBackoff (1s) at first, and
//     then gets one trial request (Pick sends it, see triage.go). The
//     trial's success brings the target back with a fresh count; its
//     failure ejects it again for twice the backoff, at most Cooldown.
//     So a target back after a 2s restart is in service again within
//     about 3s, and a dead one costs one request per Cooldown.
//   - Other outcomes reported while a target is ejected (requests already
//     in flight when it was ejected, or sent to it in panic mode) do not
//     count, except that a success after the backoff is as good as the
//     trial's.
//
// Concurrent reports past the threshold eject once and log once: the
// ejection and each return are a compare-and-swap on the state's ejected
// time, which only one caller wins.

// firstBackoff is the wait before an ejected target's first trial (or
// Cooldown, if that is shorter).
const firstBackoff = time.Second

// Succeeded records a successful attempt on t: its consecutive failure
// count restarts, and an ejected t whose trial it was (or whose backoff is
// over) is back in service. Cheap enough for every request: atomic loads,
// and a clock read only while t is ejected.
func (p *Pool) Succeeded(t *Target) {
	st := t.st
	if st.fails.Load() != 0 {
		st.fails.Store(0)
	}
	for {
		u := st.ejected.Load()
		if u == 0 || !st.trial.Load() && p.now().UnixNano() < u {
			return
		}
		if st.ejected.CompareAndSwap(u, 0) {
			st.trial.Store(false)
			p.log.Info("upstream target back after ejection",
				"pool", p.Name, "target", t.Name, "check", "passive")
			p.notify(t, true, "passive", "")
			return
		}
	}
}

// Failed records a failed attempt on t (connection error, timeout, broken
// response, or a FailStatus answer). The failure that brings the count to
// MaxFails ejects t, logged once per ejection, unless t is the pool's last
// target in service; the failure of t's trial ejects it again for twice
// the backoff. With MaxFails 0 it does nothing.
func (p *Pool) Failed(t *Target) {
	if p.maxFails == 0 {
		return
	}
	st := t.st
	if u := st.ejected.Load(); u != 0 {
		if st.trial.CompareAndSwap(true, false) {
			b := min(2*time.Duration(st.backoff.Load()), p.cooldown)
			st.backoff.Store(int64(b))
			st.ejected.CompareAndSwap(u, p.now().Add(b).UnixNano())
		}
		return
	}
	n := st.fails.Add(1)
	if n < p.maxFails || !st.fails.CompareAndSwap(n, 0) || !p.othersInService(t) {
		return
	}
	b := min(firstBackoff, p.cooldown)
	st.backoff.Store(int64(b)) // before ejected: Pick reads it once that is set
	if !st.ejected.CompareAndSwap(0, p.now().Add(b).UnixNano()) {
		return
	}
	st.trial.Store(false)
	p.log.Warn("upstream target ejected",
		"pool", p.Name, "target", t.Name, "check", "passive",
		"reason", "consecutive failures", "fails", n,
		"trial_after", b.String(), "cooldown", p.cooldown.String())
	p.notify(t, false, "passive", "consecutive failures")
}

// othersInService reports whether a target of p other than t is
// Available.
func (p *Pool) othersInService(t *Target) bool {
	for _, o := range p.Targets {
		if o != t && o.Available() {
			return true
		}
	}
	return false
}

// FailStatus reports whether a response with this status counts as a
// failed attempt (health.passive.fail_status).
func (p *Pool) FailStatus(code int) bool { return p.failCode.has(code) }

// buildPassive reads the passive settings into p.
func (p *Pool) buildPassive(s Passive) {
	p.maxFails = int32(min(max(s.MaxFails, 0), 1<<30))
	p.cooldown = max(s.Cooldown, 0)
	for _, c := range s.FailStatus {
		p.failCode.add(c)
	}
}
