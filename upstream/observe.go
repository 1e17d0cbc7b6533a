package upstream

import "time"

// HealthEvent is one health transition of a target, as Options.Observer
// is told of it: the same transitions that are logged (a target going
// down or ejected, a target healthy or back), one event each.
type HealthEvent struct {
	// Pool is the pool's name; Target the target's URL as configured.
	Pool, Target string
	// Up is true when the target came back, false when it went out.
	Up bool
	// Check is the mechanism that decided: "active" or "passive".
	Check string
	// Reason says why the target went out (a probe error, "status 503",
	// "consecutive failures"); "" when it came back.
	Reason string
	// Time is when it happened, by the pool's clock.
	Time time.Time
}

// notify tells the observer, if any, of a transition of t.
func (p *Pool) notify(t *Target, up bool, check, reason string) {
	if p.observe == nil {
		return
	}
	p.observe(HealthEvent{Pool: p.Name, Target: t.Name, Up: up, Check: check, Reason: reason, Time: p.now()})
}
