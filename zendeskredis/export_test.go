package zendeskredis

import "time"

// SetTimer replaces the timer that bounds each round trip to Redis, so that
// a test decides when a round trip times out instead of waiting for it.
func SetTimer(c *Coordinator, timer func(time.Duration) (<-chan time.Time, func() bool)) {
	c.timer = timer
}

// SetBeforeWait has LockKey call hook when it starts waiting for a lease
// held elsewhere, so that a test can act while the caller waits.
func SetBeforeWait(c *Coordinator, hook func()) {
	c.beforeWait = hook
}

// SetClock replaces the coordinator's clock (Redis keeps its own).
func SetClock(c *Coordinator, now func() time.Time) {
	c.now = now
}

// WaitBackground waits until every round trip started so far has ended,
// including those their callers gave up on, and what they do when their
// answer comes late.
func WaitBackground(c *Coordinator) {
	c.pending.Wait()
}
