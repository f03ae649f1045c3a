package restore

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"xbr/events"
	"xbr/shared/runs"
)

// DefaultProgressEvery is how often a running restore publishes progress.
const DefaultProgressEvery = events.DefaultProgressEvery

// reporter publishes xbr.restore.progress every period while a restore runs.
type reporter struct {
	h       *Handler
	id      string
	attempt uint64
	total   int64
	bytes   *atomic.Int64
	stop    func()
}

func (h *Handler) startProgress(ctx context.Context, id string, attempt uint64, total int64, bytes *atomic.Int64) *reporter {
	r := &reporter{h: h, id: id, attempt: attempt, total: total, bytes: bytes}
	r.stop = runs.Tick(ctx, h.opts.ProgressEvery, h.now, func(seq int, elapsed time.Duration, _ bool) {
		r.publish(ctx, seq, elapsed)
	})
	return r
}

func (r *reporter) publish(ctx context.Context, seq int, elapsed time.Duration) {
	p := progressAt(r.id, r.bytes.Load(), r.total, elapsed)
	id := events.DeriveID("restore.progress", r.id, fmt.Sprint(r.attempt), fmt.Sprint(seq))
	if err := r.h.publish(ctx, id, r.h.now(), p); err != nil {
		r.h.log.Warn("restore progress not published", "request", r.id, "err", err)
	}
}

// progressAt is the progress after bytes of total in elapsed.
func progressAt(id string, bytes, total int64, elapsed time.Duration) events.RestoreProgress {
	return events.RestoreProgress{RequestID: id, Transfer: events.TransferAt(bytes, total, elapsed)}
}

// Stop ends the reporting and waits for it.
func (r *reporter) Stop() { r.stop() }
