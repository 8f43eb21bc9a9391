package main

import (
	"testing"
	"time"
)

// The receiver's rate limit: perMinute requests a minute per source, a
// token bucket that refills as time moves; one noisy source never holds up
// another.
func TestLimiter(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	l := newLimiter(3, func() time.Time { return now })
	for i := range 3 {
		if _, ok := l.allow("nodeping"); !ok {
			t.Fatalf("request %d refused", i+1)
		}
	}
	wait, ok := l.allow("nodeping")
	if ok || wait <= 0 || wait > 20*time.Second {
		t.Fatalf("4th request in the minute: ok %v, wait %v", ok, wait)
	}
	if _, ok := l.allow("alertmanager"); !ok {
		t.Fatal("another source was held up")
	}
	now = now.Add(wait)
	if _, ok := l.allow("nodeping"); !ok {
		t.Fatal("refused after the wait it asked for")
	}
	if _, ok := l.allow("nodeping"); ok {
		t.Fatal("allowed twice after one token's wait")
	}
}
