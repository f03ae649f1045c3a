package restore

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"xbr/events"
)

// DefaultProgressEvery is how often a running restore publishes progress.
const DefaultProgressEvery = events.DefaultProgressEvery

// reporter publishes xbr.restore.progress every period while a restore runs.
type reporter struct {
	h       *Handler
	id      string
	attempt uint64
	total   int64
	start   time.Time
	bytes   *atomic.Int64
	stop    chan struct{}
	done    chan struct{}
}

func (h *Handler) startProgress(ctx context.Context, id string, attempt uint64, total int64, bytes *atomic.Int64) *reporter {
	r := &reporter{h: h, id: id, attempt: attempt, total: total, start: h.now(), bytes: bytes,
		stop: make(chan struct{}), done: make(chan struct{})}
	go r.loop(ctx)
	return r
}

func (r *reporter) loop(ctx context.Context) {
	defer close(r.done)
	t := time.NewTicker(r.h.opts.ProgressEvery)
	defer t.Stop()
	for seq := 1; ; seq++ {
		select {
		case <-ctx.Done():
			return
		case <-r.stop:
			return
		case <-t.C:
			r.publish(ctx, seq)
		}
	}
}

func (r *reporter) publish(ctx context.Context, seq int) {
	now := r.h.now()
	p := progressAt(r.id, r.bytes.Load(), r.total, now.Sub(r.start))
	id := events.DeriveID("restore.progress", r.id, fmt.Sprint(r.attempt), fmt.Sprint(seq))
	if err := r.h.publish(ctx, id, now, p); err != nil {
		r.h.log.Warn("restore progress not published", "request", r.id, "err", err)
	}
}

// progressAt is the progress after bytes of total in elapsed.
func progressAt(id string, bytes, total int64, elapsed time.Duration) events.RestoreProgress {
	return events.RestoreProgress{RequestID: id, Transfer: events.TransferAt(bytes, total, elapsed)}
}

// Stop ends the reporting and waits for it.
func (r *reporter) Stop() {
	close(r.stop)
	<-r.done
}
