package runs

import (
	"context"
	"time"
)

// Tick calls tick every period until the returned stop is called (stop waits for the
// goroutine) or ctx ends: with the tick's sequence number from 1, the time since Tick was
// called, and renew set once RenewEvery has passed since the last tick that had it, so a
// worker that streams publishes its progress and renews its run's lock from one loop.
// now is the caller's clock.
func Tick(ctx context.Context, period time.Duration, now func() time.Time,
	tick func(seq int, elapsed time.Duration, renew bool)) (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	start := now()
	go func() {
		defer close(exited)
		t := time.NewTicker(period)
		defer t.Stop()
		renewed := start
		for seq := 1; ; seq++ {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				at := now()
				renew := at.Sub(renewed) >= RenewEvery
				if renew {
					renewed = at
				}
				tick(seq, at.Sub(start), renew)
			}
		}
	}()
	return func() { close(done); <-exited }
}
