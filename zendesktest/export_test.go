package zendesktest

import "time"

// Hooks for the package's external tests.

// ManualClock is a clock the test moves by hand.
type ManualClock = manualClock

// NewManualClock returns a ManualClock that reads start until moved.
func NewManualClock(start time.Time) *ManualClock { return &manualClock{now: start} }
