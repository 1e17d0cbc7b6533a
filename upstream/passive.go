package upstream

import "github.com/gatehouse-proxy/gatehouse/config"

// Passive health: the forwarder reports the outcome of every attempt, and
// MaxFails consecutive failures eject a target for Cooldown. After the
// cooldown the target gets traffic again with a fresh count; the first
// success after it is logged as the target coming back. Failures reported
// while a target is ejected (requests that were already in flight) do not
// count. If every target is ejected, Pick returns nil and the proxy
// answers 503.

// Succeeded records a successful attempt on t: its consecutive failure
// count restarts. Cheap enough for every request: atomic loads, and a
// clock read only while t has an ejection on record.
func (p *Pool) Succeeded(t *Target) {
	st := t.st
	if st.fails.Load() != 0 {
		st.fails.Store(0)
	}
	u := st.ejectedUntil.Load()
	if u == 0 || p.now().UnixNano() < u {
		return
	}
	if st.ejectedUntil.CompareAndSwap(u, 0) {
		p.log.Info("upstream target back after ejection",
			"pool", p.Name, "target", t.Name, "check", "passive")
	}
}

// Failed records a failed attempt on t (connection error, timeout, broken
// response, or a FailStatus answer). The failure that brings the count to
// MaxFails ejects t until now+Cooldown and is logged, once per ejection.
// With MaxFails 0 it does nothing.
func (p *Pool) Failed(t *Target) {
	if p.maxFails == 0 {
		return
	}
	st := t.st
	now := p.now()
	u := st.ejectedUntil.Load()
	if u != 0 && now.UnixNano() < u {
		return
	}
	n := st.fails.Add(1)
	// Of concurrent failures past the threshold one wins the swap back to
	// zero; and should stragglers reach it again, only one caller can
	// replace the ejection time it saw. So each ejection is logged once.
	if n < p.maxFails || !st.fails.CompareAndSwap(n, 0) ||
		!st.ejectedUntil.CompareAndSwap(u, now.Add(p.cooldown).UnixNano()) {
		return
	}
	p.log.Warn("upstream target ejected",
		"pool", p.Name, "target", t.Name, "check", "passive",
		"reason", "consecutive failures", "fails", n, "cooldown", p.cooldown.String())
}

// FailStatus reports whether a response with this status counts as a
// failed attempt (health.passive.fail_status).
func (p *Pool) FailStatus(code int) bool { return p.failCode.has(code) }

// buildPassive reads the passive settings into p.
func (p *Pool) buildPassive(cfg *config.PassiveHealth) {
	p.maxFails = int32(min(max(cfg.MaxFails, 0), 1<<30))
	p.cooldown = cfg.Cooldown.D()
	if p.cooldown <= 0 {
		p.cooldown = defaultCooldown
	}
	for _, c := range cfg.FailStatus {
		p.failCode.add(c)
	}
}
