package zendesktest

import "time"

// Hooks for the package's external tests.

// ManualClock is a clock the test moves by hand.
type ManualClock = manualClock

// NewManualClock returns a ManualClock that reads start until moved.
func NewManualClock(start time.Time) *ManualClock { return &manualClock{now: start} }

// WithRateClock makes the rate-limit windows follow now instead of the
// real clock.
var WithRateClock = withRateClock
