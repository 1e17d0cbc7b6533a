package upstream

// Before the balancer picks, Pick looks at the pool's passive ejections:
// it sends trials, and it decides whether the pool is in panic mode.
//
// Trials. An ejected target whose backoff is over gets the pool's next
// attempt, whatever the policy would have chosen (so a hash or sticky
// client may land there once), as its one trial request. Pick claims the
// trial by moving the target's next trial time one backoff further: of
// concurrent Picks one sends it, and a trial that never reports (its
// client hung up) is followed by another a backoff later.
//
// Panic mode. When fewer than half of the targets not marked down by
// active checks are in service, passive ejections are ignored for the
// attempt: the balancer chooses among all those targets, as Envoy does
// below its (default 50%) panic threshold. Passive failures are a weak,
// indirect signal (a few refused connections during a restart), and
// refusing a whole pool because of them turns a partial outage into a
// total one; a target that really is down fails fast and the attempt is
// retried elsewhere. Half is the point past which the targets still in
// service would each carry more than twice their share. Active verdicts
// still count: unhealthy_threshold failed probes in a row are a
// deliberate signal (a backend draining, a health endpoint saying no), so
// a pool whose targets are all down by active checks answers 503.

// triage sends a due trial, returning its target, or sets c.panicMode for the
// balancer and returns nil. When no target is ejected it costs one atomic
// load per target and no clock read.
func (p *Pool) triage(c *Choice) *Target {
	c.panicMode = false
	for _, t := range p.Targets {
		if t.st.ejected.Load() != 0 {
			return p.triageEjected(c)
		}
	}
	if p.panicked.Load() {
		p.notePanic(false, len(p.Targets), 0)
	}
	return nil
}

// triageEjected is triage's slow path, when some target is ejected.
func (p *Pool) triageEjected(c *Choice) *Target {
	now := p.now().UnixNano()
	var up, out int
	var trial *Target
	for _, t := range p.Targets {
		st := t.st
		if st.activeDown.Load() {
			continue
		}
		up++
		u := st.ejected.Load()
		if u == 0 {
			continue
		}
		out++
		if trial != nil || now < u || c.Tried(t) {
			continue
		}
		b := st.backoff.Load()
		if b <= 0 {
			b = int64(firstBackoff)
		}
		if st.ejected.CompareAndSwap(u, now+b) {
			st.trial.Store(true)
			trial = t
		}
	}
	c.panicMode = 2*out > up
	p.notePanic(c.panicMode, up, out)
	return trial
}

// notePanic logs when the pool enters or leaves panic mode. Once per
// change: the flag's compare-and-swap has one winner.
func (p *Pool) notePanic(on bool, up, out int) {
	if p.panicked.Load() == on || !p.panicked.CompareAndSwap(!on, on) {
		return
	}
	if on {
		p.log.Warn("upstream pool in panic mode: fewer than half of its targets are in service, so requests go to ejected ones too",
			"pool", p.Name, "in_service", up-out, "targets", up)
		return
	}
	p.log.Info("upstream pool out of panic mode", "pool", p.Name)
}
