package testsupport

import (
	"sync"
	"time"
)

// StepClock is a clock a test moves on by hand (Add), safe for concurrent
// use: e.g. the clock of a run coordinator and its workers, moved on as a
// host resumed from a suspend finds it.
type StepClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewStepClock returns a StepClock at t.
func NewStepClock(t time.Time) *StepClock { return &StepClock{now: t} }

// Now is the clock's time.
func (c *StepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Add moves the clock on by d.
func (c *StepClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }
