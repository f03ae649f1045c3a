package xapi

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
)

// stallGuard cancels a download's request when one wait for the host
// outlasts the stall timeout. Only the waits are timed (start to stop),
// never the caller's time between reads. A zero timeout disables it.
type stallGuard struct {
	timeout time.Duration
	cancel  context.CancelFunc // ends the request
	timer   *time.Timer
	fired   atomic.Bool
}

func newStallGuard(timeout time.Duration, cancel context.CancelFunc) *stallGuard {
	g := &stallGuard{timeout: timeout, cancel: cancel}
	if timeout > 0 {
		g.timer = time.AfterFunc(timeout, g.fire)
		g.timer.Stop()
	}
	return g
}

func (g *stallGuard) fire() {
	g.fired.Store(true)
	g.cancel()
}

// start arms the guard before a wait for the host.
func (g *stallGuard) start() {
	if g.timer != nil {
		g.timer.Reset(g.timeout)
	}
}

// stop disarms the guard after a wait for the host.
func (g *stallGuard) stop() {
	if g.timer != nil {
		g.timer.Stop()
	}
}

// stalled reports whether a wait outlasted the timeout; the request has
// then been cancelled.
func (g *stallGuard) stalled() bool { return g.fired.Load() }

// release stops the guard for good and ends the request.
func (g *stallGuard) release() {
	g.stop()
	g.cancel()
}

// stallError is the error of a transfer that the host left silent for d.
func stallError(what string, d time.Duration) error {
	return fmt.Errorf("%s: no data from the host for %v (%w)", what, d, ErrStalled)
}
