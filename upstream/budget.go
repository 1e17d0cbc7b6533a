package upstream

import (
	"math"
	"sync/atomic"
)

// budget is a retry budget in the manner of Finagle's: every request
// deposits a fraction of a token (Retry.Budget, e.g. 0.2), every retry
// withdraws a whole one, and on top of that MinPerSecond retries are always
// allowed each second so that a quiet service can still retry. Deposits
// expire after budgetWindow seconds, so a burst of traffic long ago cannot
// fund a retry storm now.
//
// Tokens are counted in thousandths in one-second buckets. Each bucket is a
// single atomic word packing the second it belongs to with its balance, so
// rotating a stale bucket and adding to it is one compare-and-swap: the
// type is lock-free and safe for concurrent use. Under contention a few
// concurrent retries may overdraw the balance slightly; a budget is a
// safety valve, not an exact quota.
type budget struct {
	now     clock
	deposit int64 // milli-tokens per request; 0 disables ratio retries
	minPer  int64 // retries always allowed per second
	buckets [budgetWindow]atomic.Uint64
	minUsed atomic.Uint64 // packed (second, retries taken from minPer)
}

const (
	budgetWindow = 10   // seconds a deposit lasts
	milli        = 1000 // one retry, in milli-tokens

	valBits = 40 // low bits of a packed word: a signed value
	valMask = 1<<valBits - 1
	valMax  = 1<<(valBits-1) - 1
	secMask = 1<<(64-valBits) - 1 // high bits: the second, modulo 2^24
)

// pack puts second sec and value v in one word.
func pack(sec, v int64) uint64 {
	v = max(min(v, valMax), -valMax)
	return uint64(sec&secMask)<<valBits | uint64(v)&valMask
}

// unpack splits a word made by pack; sec is modulo 2^24.
func unpack(w uint64) (sec, v int64) {
	return int64(w >> valBits), int64(w<<(64-valBits)) >> (64 - valBits)
}

// newBudget returns a budget depositing ratio tokens per request (negative
// counts as 0) and always allowing minPerSecond retries per second.
func newBudget(now clock, ratio float64, minPerSecond int) *budget {
	b := &budget{now: now, minPer: int64(max(minPerSecond, 0))}
	if ratio > 0 && !math.IsInf(ratio, 0) {
		b.deposit = int64(math.Round(min(ratio, 1e6) * milli))
	}
	return b
}

// request records one request. With a zero ratio it does nothing at all.
func (b *budget) request() {
	if b.deposit == 0 {
		return
	}
	b.add(b.now().Unix(), b.deposit)
}

// allowRetry reports whether one more retry fits the budget, and if so
// takes it: first from this second's MinPerSecond, then from deposits.
func (b *budget) allowRetry() bool {
	sec := b.now().Unix()
	if b.takeMin(sec) {
		return true
	}
	if b.deposit == 0 || b.balance(sec) < milli {
		return false
	}
	b.add(sec, -milli)
	return true
}

// add adds v milli-tokens to the bucket of second sec, resetting the
// bucket first if it still holds an older second.
func (b *budget) add(sec, v int64) {
	slot := &b.buckets[uint64(sec)%budgetWindow]
	for {
		old := slot.Load()
		s, cur := unpack(old)
		if s != sec&secMask {
			cur = 0
		}
		if slot.CompareAndSwap(old, pack(sec, cur+v)) {
			return
		}
	}
}

// balance sums the buckets of the last budgetWindow seconds, sec included.
func (b *budget) balance(sec int64) int64 {
	var sum int64
	for i := range b.buckets {
		s, v := unpack(b.buckets[i].Load())
		if (sec-s)&secMask < budgetWindow {
			sum += v
		}
	}
	return sum
}

// takeMin takes one of second sec's MinPerSecond retries if any is left.
func (b *budget) takeMin(sec int64) bool {
	if b.minPer == 0 {
		return false
	}
	for {
		old := b.minUsed.Load()
		s, used := unpack(old)
		if s != sec&secMask {
			used = 0
		}
		if used >= b.minPer {
			return false
		}
		if b.minUsed.CompareAndSwap(old, pack(sec, used+1)) {
			return true
		}
	}
}
