package runs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"xbr/shared/runs"
)

// TestTick: ticks are numbered from 1 with growing elapsed times; renew is
// set when RenewEvery has passed on the caller's clock since the last
// renewal, and stop ends the ticks before it returns.
func TestTick(t *testing.T) {
	var mu sync.Mutex
	clock := time.Unix(0, 0)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	type tick struct {
		seq     int
		elapsed time.Duration
		renew   bool
	}
	got := make(chan tick, 16)
	stop := runs.Tick(context.Background(), time.Millisecond, now, func(seq int, elapsed time.Duration, renew bool) {
		got <- tick{seq, elapsed, renew}
		mu.Lock()
		clock = clock.Add(2 * time.Second) // each tick moves the clock on by 2 s
		mu.Unlock()
	})
	var ticks []tick
	for len(ticks) < 4 {
		ticks = append(ticks, <-got)
	}
	stop()
	want := []tick{{1, 0, false}, {2, 2 * time.Second, false}, {3, 4 * time.Second, false}, {4, 6 * time.Second, true}}
	for i, w := range want {
		if ticks[i] != w {
			t.Fatalf("tick %d: %+v, want %+v (all: %+v)", i, ticks[i], w, ticks)
		}
	}
	n := len(got)
	time.Sleep(5 * time.Millisecond)
	if len(got) != n {
		t.Fatal("ticks went on after stop returned")
	}
}
