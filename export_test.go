package zendesk

import "time"

// setClock makes c, and its default coordinator if it has one, read now
// instead of the real clock.
func setClock(c *Client, now func() time.Time) {
	c.now = now
	if l, ok := c.coord.(*localCoordinator); ok {
		l.mu.Lock()
		l.now = now
		l.mu.Unlock()
	}
}

// SetClock is setClock for the tests of package zendesk_test.
var SetClock = setClock

// NormalizeTimes is normalizeTimes for the tests of package zendesk_test.
var NormalizeTimes = normalizeTimes
