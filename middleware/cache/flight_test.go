package cache

import (
	"strconv"
	"testing"
	"time"
)

func TestPassRemembered(t *testing.T) {
	var fs flights
	now := time.Unix(1_000_000, 0)
	if fs.passing("k", now) {
		t.Fatal("a key never fetched is passing")
	}
	fs.settle("k", false, now)
	if !fs.passing("k", now.Add(passFor-time.Second)) {
		t.Error("a key whose answer was not storable does not pass")
	}
	if fs.passing("k", now.Add(passFor)) {
		t.Errorf("the pass outlived %v", passFor)
	}
	fs.settle("k", false, now)
	fs.settle("k", true, now)
	if fs.passing("k", now) {
		t.Error("a stored answer did not end the pass")
	}
}

func TestPassBounded(t *testing.T) {
	var fs flights
	now := time.Unix(1_000_000, 0)
	for i := range maxPass + 500 {
		fs.settle(strconv.Itoa(i), false, now)
	}
	if n := len(fs.pass); n > maxPass {
		t.Errorf("%d keys remembered, want at most %d", n, maxPass)
	}
	if !fs.passing(strconv.Itoa(maxPass+499), now) {
		t.Error("the newest key was forgotten")
	}
	// Expired keys go before live ones.
	later := now.Add(passFor)
	fs.settle("fresh", false, later)
	if len(fs.pass) != 1 {
		t.Errorf("after every other pass expired, %d keys remembered, want 1", len(fs.pass))
	}
}
