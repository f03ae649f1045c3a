package runs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"xbr/shared/bus"
	"xbr/shared/config"
)

// WorkerEnv is what Work needs of a worker: the run records, its logger, its
// clock and how it waits between attempts.
type WorkerEnv struct {
	Runs *Coordinator
	Log  *slog.Logger
	Now  func() time.Time
	Wait func(ctx context.Context, d time.Duration) error
	// Work names the work in logs and errors ("export", "incremental").
	Work string
}

// VMWork is one VM's work request as a worker carries it out (see Work).
type VMWork[T any] struct {
	Job   config.Job
	RunID string
	VM    string
	// Attempt does attempt n (from 1); run is the VM's run when the request
	// belongs to a recorded one, nil otherwise, as read before the first
	// attempt: what an attempt records in the run (RecordAttempt) is not in
	// it, so an attempt keeps the run its predecessor's record returned.
	// hold renews the run's lock while the attempt streams (nil, whose
	// Renew does nothing, when run is nil); once another run holds the
	// lock, ctx ends and the attempt stops.
	Attempt func(ctx context.Context, run *Run, hold *Hold, n int) (T, error)
	// Completed is what reports done, the result of the attempt that worked.
	Completed func(done T) ([]bus.Out, error)
	// Failed reports the VM failed with err after attempts, begun at start.
	Failed func(start time.Time, attempts int, err error) ([]bus.Out, error)
}

// Work does one VM's work request, the part every run-shaped worker shares:
// a request of a run that has ended is dropped; the attempts are bounded by
// the job's vm_timeout and retried per the job (Retry); the outcome is
// Completed's or Failed's events, except when ctx ends (the process is
// shutting down), where the error lets the bus redeliver the request. The
// attempts of a recorded run hold its lock (Hold): when the job's next fire
// took it over meanwhile (the run went stale), they stop and the VM fails
// saying so.
func Work[T any](ctx context.Context, e WorkerEnv, w VMWork[T]) ([]bus.Out, error) {
	var run *Run
	r, err := e.Runs.GetVM(ctx, w.RunID, w.VM)
	switch {
	case err == nil && r.Done():
		e.Log.Info("request of a run that has ended; dropped", "run", w.RunID, "vm_uuid", w.VM, "status", r.Status)
		return nil, nil
	case err == nil:
		run = &r
	case !errors.Is(err, ErrNotFound):
		return nil, err
	}
	start := e.Now()
	vctx, cancel := ctx, context.CancelFunc(func() {})
	if w.Job.VMTimeout > 0 {
		vctx, cancel = context.WithTimeout(ctx, w.Job.VMTimeout)
	}
	defer cancel()
	hctx, wait := vctx, e.Wait
	var hold *Hold
	if run != nil {
		hctx, hold = e.Runs.Hold(vctx, run.Job, run.ID)
		defer hold.Release()
		wait = hold.Waiting(e.Wait, e.Log)
	}
	done, attempts, err := Retry(hctx, w.Job, wait, func(n int, in time.Duration, err error) {
		e.Log.Warn(e.Work+" attempt failed; retrying", "run", w.RunID, "vm_uuid", w.VM,
			"attempt", n, "retry_in", in, "error", err)
	}, func(n int) (T, error) { return w.Attempt(hctx, run, hold, n) })
	if err == nil {
		return w.Completed(done)
	}
	if ctx.Err() != nil { // shutting down: let the bus redeliver
		return nil, fmt.Errorf("%s vm %s: %w", e.Work, w.VM, err)
	}
	if lost := Lost(hctx); lost != nil {
		err = lost
	} else if vctx.Err() != nil {
		err = fmt.Errorf("timed out after %s (vm_timeout): %w", w.Job.VMTimeout, err)
	}
	return w.Failed(start, attempts, err)
}

// WaitHolding is wait (a worker's wait between attempts at one VM's work,
// Retry) renewing the lock of job held by run runID at least every quarter
// of StaleAfter: a retry backoff (doubling up to MaxRetryBackoff) can be
// longer than StaleAfter, and the next fire must not take over a run that is
// only waiting. It returns ErrNotHolder, ending the retries, once another run
// holds the lock (this one was taken over, or it ended).
func (c *Coordinator) WaitHolding(wait func(context.Context, time.Duration) error, log *slog.Logger, job, runID string) func(context.Context, time.Duration) error {
	return c.waitRenewing(wait, log, runID, func(ctx context.Context) error { return c.Touch(ctx, job, runID) })
}

// Waiting is WaitHolding for the hold's run; a lock found held by another
// run also ends the hold.
func (h *Hold) Waiting(wait func(context.Context, time.Duration) error, log *slog.Logger) func(context.Context, time.Duration) error {
	return h.c.waitRenewing(wait, log, h.runID, h.Renew)
}

func (c *Coordinator) waitRenewing(wait func(context.Context, time.Duration) error, log *slog.Logger, runID string,
	renew func(context.Context) error) func(context.Context, time.Duration) error {
	step := c.renewStep()
	return func(ctx context.Context, d time.Duration) error {
		for d > 0 {
			now := min(d, step)
			if err := wait(ctx, now); err != nil {
				return err
			}
			d -= now
			if err := renew(ctx); errors.Is(err, ErrNotHolder) {
				return err
			} else if err != nil {
				log.Warn("renewing the job's lock between attempts failed", "run", runID, "error", err)
			}
		}
		return nil
	}
}

// Keep renews the hold's lock every renewStep, as Waiting does, while the
// worker waits on something outside the run that renews nothing (Xen
// Orchestra's lock of a VM folder, held by XO's backup of the VM): the next
// fire must not take over a run that is only waiting. Once another run
// holds the lock (this one was taken over, or it ended), Renew ends the
// hold's context, and with it the wait under it (Lost says why). stop ends
// the renewal. A nil Hold (work of no recorded run) renews nothing.
func (h *Hold) Keep(log *slog.Logger) (stop func()) {
	if h == nil {
		return func() {}
	}
	// stop ends a renewal under way too: NATS out of reach must not hold the
	// worker in stop for up to renewStep.
	kctx, done := context.WithCancel(context.Background())
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(h.c.renewStep())
		defer t.Stop()
		for {
			select {
			case <-kctx.Done():
				return
			case <-t.C:
			}
			if kctx.Err() != nil {
				return
			}
			rctx, cancel := context.WithTimeout(kctx, h.c.renewStep())
			err := h.Renew(rctx)
			cancel()
			if errors.Is(err, ErrNotHolder) {
				return
			} else if err != nil && kctx.Err() == nil {
				log.Warn("renewing the job's lock while waiting failed", "run", h.runID, "error", err)
			}
		}
	}()
	return func() {
		done()
		<-exited
	}
}

// renewStep is how often a run that makes no progress of its own renews
// its job's lock (WaitHolding, Waiting, Keep): a quarter of StaleAfter.
func (c *Coordinator) renewStep() time.Duration { return max(c.staleAfter/4, time.Millisecond) }
