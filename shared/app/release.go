package app

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// A long-running xbr serve works in bursts: a run's transfers take heap for
// their buffers, then give it back to the Go runtime, which keeps freed heap
// for reuse and returns it to the OS only slowly. Left alone, the process's
// RSS follows the largest burst it has seen. So serve checks, every
// releaseEvery, how much heap sits free and not yet returned, and returns it
// when it is over releaseIdle (one forced collection; at most one per
// period, and only after a burst).
const (
	releaseEvery = 10 * time.Second
	releaseIdle  = 16 << 20
)

// freeHeapMetric is the heap that is free and not yet returned to the OS.
const freeHeapMetric = "/memory/classes/heap/free:bytes"

// releaseIdleHeap returns free heap to the OS until ctx ends (see above).
func releaseIdleHeap(ctx context.Context, every time.Duration, idle uint64) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			releaseIfIdle(idle)
		}
	}
}

// releaseIfIdle returns free heap to the OS when more than idle bytes of it
// are held, and reports whether it did.
func releaseIfIdle(idle uint64) bool {
	if freeHeap() <= idle {
		return false
	}
	debug.FreeOSMemory()
	return true
}

func freeHeap() uint64 {
	s := []metrics.Sample{{Name: freeHeapMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
