package runs

import (
	"context"
	"errors"
	"fmt"
)

// Hold is a worker's hold on its run's lock during one VM's long work (a
// stream, a copy). Renew renews the lock (Touch); when it finds that the
// run no longer holds the lock — it went stale (the host suspended, a long
// stall, NATS out of reach) and the job's next fire took it over, or the
// run was ended — it ends the hold's context with that error as the cause.
// Work done under that context stops at its next safe point instead of
// going on beside the run that took over; Lost tells that outcome from a
// shutdown.
type Hold struct {
	c      *Coordinator
	job    string
	runID  string
	cancel context.CancelCauseFunc
}

// Hold returns a context for run runID's work on job, a child of ctx, and
// its Hold. Call Release when the work is done.
func (c *Coordinator) Hold(ctx context.Context, job, runID string) (context.Context, *Hold) {
	hctx, cancel := context.WithCancelCause(ctx)
	return hctx, &Hold{c: c, job: job, runID: runID, cancel: cancel}
}

// Renew renews the lock. When another run holds it or none does, it ends
// the hold's context and returns the reason, wrapping ErrNotHolder; other
// errors (NATS out of reach) are returned only: the lock may still be the
// run's, and the next renewal tries again. A nil Hold (work of no recorded
// run) renews nothing.
func (h *Hold) Renew(ctx context.Context) error {
	if h == nil {
		return nil
	}
	err := h.c.Touch(ctx, h.job, h.runID)
	if errors.Is(err, ErrNotHolder) {
		err = fmt.Errorf("stopped: the job's lock was taken over or the run has ended (%w)", err)
		h.cancel(err)
	}
	return err
}

// Release ends the hold's context.
func (h *Hold) Release() { h.cancel(nil) }

// Lost returns why ctx, a hold's context, ended when it was because its run
// no longer holds the job's lock (an error wrapping ErrNotHolder), nil
// otherwise.
func Lost(ctx context.Context) error {
	if err := context.Cause(ctx); errors.Is(err, ErrNotHolder) {
		return err
	}
	return nil
}
