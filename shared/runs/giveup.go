package runs

import (
	"context"
	"errors"
	"fmt"

	"xbr/events"
	"xbr/shared/bus"
)

// GivesUp reports whether a planner that failed with err on delivery d
// gives the fire up now instead of having it redelivered: on its last
// delivery, or after PlanAttempts deliveries (a planner's consumer keeps
// delivering a queued fire for weeks, so its last delivery is far away). A
// fire queued behind a running run (*BusyError), a permanent error and a
// shutdown are never given up.
func GivesUp(ctx context.Context, d bus.Delivery, err error) bool {
	var busy *BusyError
	if err == nil || ctx.Err() != nil || bus.IsPermanent(err) || errors.As(err, &busy) {
		return false
	}
	return d.Last() || d.Attempt >= PlanAttempts
}

// Fail ends the run of fire f as a failure with reason, whatever it had
// reached (see Abort); a run not recorded yet is recorded ended.
func (c *Coordinator) Fail(ctx context.Context, f Fire, reason string) (Run, error) {
	r, err := c.End(ctx, f, events.StatusFailure, reason)
	if err != nil || r.Status == events.StatusFailure && r.Reason == reason {
		return r, err
	}
	return c.Abort(ctx, f.RunID, reason)
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

// GiveUpFire is a planner giving fire f up after err on delivery d: the
// run fails (Fail) and GiveUp's outcome is returned. When the failure
// cannot be recorded (the bus is unwell) the error is returned for a
// redelivery.
func GiveUpFire(ctx context.Context, c *Coordinator, message func(id string, p events.Payload) (bus.Out, error),
	f Fire, d bus.Delivery, err error) ([]bus.Out, error) {
	r, ferr := c.Fail(ctx, f, events.Reason(err))
	if ferr != nil {
		return nil, fmt.Errorf("record the failure of run %s: %w (after: %w)", f.RunID, ferr, err)
	}
	return GiveUp(message, r, d, err)
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
