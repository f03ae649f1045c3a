package mirror

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"xbr/shared/runs"
)

// renewer keeps a mirror run's lock fresh while it copies, as an export
// renews it while it streams, through the hold of its work (runs.Hold): once
// the job's next fire has taken the lock over, the work's context ends and
// the run copies and deletes nothing more.
type renewer struct {
	hold *runs.Hold
	now  func() time.Time
	log  *slog.Logger
	run  string

	mu      sync.Mutex
	renewed time.Time
}

// touch renews the lock at most every runs.RenewEvery; it is called before
// each point's copy and as its chunks are copied.
func (r *renewer) touch(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if !r.renewed.IsZero() && now.Sub(r.renewed) < runs.RenewEvery {
		return
	}
	r.renewed = now
	if err := r.hold.Renew(ctx); err != nil && ctx.Err() == nil {
		r.log.Warn("run lock not renewed", "run", r.run, "err", err)
	}
}

// confirm renews the lock now, before the target's points are deleted: a
// run that cannot show it still holds the lock deletes nothing (the next
// run does).
func (r *renewer) confirm(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.hold.Renew(ctx); err != nil {
		return err
	}
	r.renewed = r.now()
	return nil
}
