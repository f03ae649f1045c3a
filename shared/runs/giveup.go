package runs

import (
	"context"
	"errors"
	"fmt"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
)

// GivesUp reports whether a planner that failed with err on delivery d
// gives the fire up now instead of having it redelivered: on its last
// delivery, or on its PlanAttempts-th try since it was admitted (tries,
// Admission.Tries; a planner's consumer keeps delivering a queued fire for
// weeks, so its last delivery is far away, and the deliveries it spent
// queued are no tries). A fire not admitted (tries 0: the lock could not
// be read) is given up on its last delivery only. A fire queued behind a
// running run (*BusyError; the planner skips it on its last delivery), a
// permanent error and a shutdown are never given up.
func GivesUp(ctx context.Context, d bus.Delivery, tries uint64, err error) bool {
	var busy *BusyError
	if err == nil || ctx.Err() != nil || bus.IsPermanent(err) || errors.As(err, &busy) {
		return false
	}
	return d.Last() || tries >= PlanAttempts
}

// Abort ends run runID as a failure with reason and releases the job's
// lock. A running run stops (its outstanding requests are dropped by the
// workers); an ended one takes the failure too, since its outcome could
// not be reported. Repeating it changes nothing.
func (c *Coordinator) Abort(ctx context.Context, runID, reason string) (Run, error) {
	h, err := c.update(ctx, runID, func(r *Run) (bool, error) {
		if r.Done() && r.Status == events.StatusFailure && r.Reason == reason {
			return false, nil
		}
		r.State, r.Status, r.Reason = StateDone, events.StatusFailure, reason
		if r.EndedAt.IsZero() {
			r.EndedAt = c.now()
		}
		return true, nil
	})
	if err != nil {
		return Run{}, err
	}
	if err := c.release(ctx, h.Job, h.ID); err != nil {
		return Run{}, err
	}
	return c.full(ctx, h)
}

// GiveUp is what a handler returns when it gives up on run r (ended by
// Fail or Abort) after err on delivery d: r's run.completed, or, when that
// cannot be built (a VM's name the contract refuses, say), one with the
// status and reason alone; and a permanent error, so the bus publishes the
// outcome, then terminates the event and copies it to the DLQ.
func GiveUp(message func(id string, p events.Payload) (bus.Out, error), r Run, d bus.Delivery, err error) ([]bus.Out, error) {
	cause := bus.Permanent(fmt.Errorf("run %s given up after %d deliveries: %w", r.ID, d.Attempt, err))
	id := events.DeriveID("run.completed", r.ID)
	o, merr := message(id, r.CompletedEvent())
	if merr != nil {
		o, merr = message(id, events.RunCompleted{RunID: r.ID, Job: r.Job, Schedule: r.Schedule,
			Status: r.Status, Reason: r.Reason})
	}
	if merr != nil {
		return nil, errors.Join(cause, merr)
	}
	return []bus.Out{o}, cause
}

// giveUp gives fire f of job up after err on delivery d. A fire whose run
// was never recorded is recorded failed, and GiveUp's outcome returned. A
// run recorded by an earlier delivery is not ended for a planner's error,
// which may be transient (reading the bucket): its events are returned
// again and the fire is done; only when they cannot be built (Announce
// fails, which no redelivery changes) is the run aborted (GiveUpRun). When
// nothing can be recorded (the bus is unwell) the error is returned for a
// redelivery.
func (p *Planner) giveUp(ctx context.Context, job config.Job, f Fire, d bus.Delivery, err error) ([]bus.Out, error) {
	reason := events.Reason(err)
	r, ferr := p.f.Runs.End(ctx, f, events.StatusFailure, reason)
	if ferr != nil {
		return nil, fmt.Errorf("record the failure of run %s: %w (after: %w)", f.RunID, ferr, err)
	}
	if r.Done() && r.Status == events.StatusFailure && r.Reason == reason {
		p.f.Log.Error("fire given up: its run ends as a failure", "job", f.Job, "run", f.RunID, "error", err)
		return GiveUp(p.f.Message, r, d, err)
	}
	outs, aerr := p.f.Announce(job, r)
	if aerr != nil {
		p.f.Log.Error("fire given up: its run cannot be announced and is aborted", "job", f.Job, "run", f.RunID, "error", aerr)
		return GiveUpRun(ctx, p.f.Runs, p.f.Message, r.ID, d, aerr)
	}
	p.f.Log.Warn("fire's run was recorded before; announced again", "job", f.Job, "run", f.RunID, "error", err)
	return outs, nil
}

// GivesUpRun reports whether a handler advancing a running run (a VM's
// work or its end) gives the run up after err on delivery d: on its last
// delivery, unless the error is permanent (the bad event alone goes to the
// DLQ) or the process is shutting down.
func GivesUpRun(ctx context.Context, d bus.Delivery, err error) bool {
	return err != nil && d.Last() && ctx.Err() == nil && !bus.IsPermanent(err)
}

// GiveUpRun aborts run runID as a failure with err's reason (Abort) and
// returns GiveUp's outcome, so the run never waits for ever for a VM whose
// end could not be recorded.
func GiveUpRun(ctx context.Context, c *Coordinator, message func(id string, p events.Payload) (bus.Out, error),
	runID string, d bus.Delivery, err error) ([]bus.Out, error) {
	r, aerr := c.Abort(ctx, runID, events.Reason(err))
	if aerr != nil {
		return nil, fmt.Errorf("abort run %s: %w (after: %w)", runID, aerr, err)
	}
	return GiveUp(message, r, d, err)
}
