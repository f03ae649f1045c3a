package replicate

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/runs"
	"xbr/shared/xotag"
)

// Worker replicates one VM per replicate.requested.
type Worker struct{ d Deps }

// newWorker returns the worker handler without the skeleton (NewWorker).
func newWorker(d Deps) *Worker { return &Worker{d: d.withDefaults()} }

// Handle replicates the VM, retrying per the job's settings, and returns
// replicate.completed or replicate.failed. Each attempt is announced by a
// replicate.started.
func (w *Worker) Handle(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	req, err := workItem(ev)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	job, ok := w.d.Config.Job(req.Job)
	if !ok || job.Mode != config.ModeReplicate {
		return nil, bus.Permanent(fmt.Errorf("replicate.requested for %q, which is not a replicate job", req.Job))
	}
	sched, ok := job.Schedule(req.Schedule)
	if !ok {
		return nil, bus.Permanent(fmt.Errorf("job %s has no schedule %q", req.Job, req.Schedule))
	}
	r, err := w.d.Runs.GetVM(ctx, req.RunID, req.VMUUID)
	switch {
	case err == nil && r.Done():
		w.d.Log.Info("work of a run that has ended; dropped", "run", req.RunID, "vm_uuid", req.VMUUID, "status", r.Status)
		return nil, nil
	case err != nil && !errors.Is(err, runs.ErrNotFound):
		return nil, err
	}
	actx, wait := ctx, w.d.Wait
	var hold *runs.Hold
	if err == nil { // a recorded run: its lock is renewed as bytes flow and while an attempt waits for the next
		actx, hold = w.d.Runs.Hold(ctx, req.Job, req.RunID)
		defer hold.Release()
		wait = hold.Waiting(w.d.Wait, w.d.Log)
	}
	start := w.d.Now()
	done, attempts, err := w.attempts(actx, req, ev.Delivery.Attempt, job, sched, wait, hold)
	if err == nil {
		return w.completed(req, done)
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("replicate vm %s: %w", req.VMUUID, err) // shutting down: redeliver
	}
	if lost := runs.Lost(actx); lost != nil { // taken over: the copy was cut, nothing pruned
		err = lost
	}
	return w.d.failed(req, start, attempts, err)
}

// workItem is the replicate.requested of ev. A replicate.started without
// attempt is the work item of events contract 1.x, delivered before an
// upgrade and redelivered since: it is done as the request it was.
func workItem(ev bus.Event) (events.ReplicateRequested, error) {
	switch p := ev.Payload.(type) {
	case events.ReplicateRequested:
		return p, nil
	case events.ReplicateStarted:
		if p.Attempt == 0 {
			return events.ReplicateRequested{RunID: p.RunID, Job: p.Job, Schedule: p.Schedule, VMUUID: p.VMUUID,
				VMName: p.VMName, Pool: p.Pool, TargetPool: p.TargetPool, TargetSR: p.TargetSR}, nil
		}
	}
	return events.ReplicateRequested{}, fmt.Errorf("event %s: %s is not a work item, want %s", ev.Event.ID(),
		ev.Type(), events.TypeReplicateRequested)
}

// attempts runs up to 1+Retries attempts (runs.Retry) of the delivery-th
// delivery of req, waiting between them with wait; hold renews the run's
// lock as bytes flow (nil outside a recorded run) and, once another run
// holds it, ends ctx.
func (w *Worker) attempts(ctx context.Context, req events.ReplicateRequested, delivery uint64, job config.Job,
	sched config.Schedule, wait func(context.Context, time.Duration) error, hold *runs.Hold) (Result, int, error) {
	return runs.Retry(ctx, job, wait, func(n int, in time.Duration, err error) {
		w.d.Log.Warn("replication attempt failed; retrying", "run", req.RunID, "vm_uuid", req.VMUUID,
			"attempt", n, "retry_in", in, "error", err)
	}, func(n int) (Result, error) {
		w.started(ctx, req, delivery, n)
		return w.attempt(ctx, req, job, sched, hold)
	})
}

// started publishes replicate.started on the side channel, as export does
// export.started; a failure is only logged (the event is informative).
func (w *Worker) started(ctx context.Context, req events.ReplicateRequested, delivery uint64, n int) {
	p := events.ReplicateStarted{RunID: req.RunID, Job: req.Job, Schedule: req.Schedule, VMUUID: req.VMUUID,
		VMName: req.VMName, Pool: req.Pool, TargetPool: req.TargetPool, TargetSR: req.TargetSR, Attempt: int64(n)}
	id := events.DeriveID("replicate.started", req.RunID, req.VMUUID, fmt.Sprint(delivery), fmt.Sprint(n))
	m, err := w.d.message(id, w.d.Now(), p)
	if err == nil && w.d.Publisher != nil {
		_, err = w.d.Publisher.Publish(ctx, m.Subject, m.Event)
	}
	if err != nil && ctx.Err() == nil {
		w.d.Log.Warn("publish failed", "event_type", p.EventType(), "error", err)
	}
}

func (w *Worker) attempt(ctx context.Context, req events.ReplicateRequested, job config.Job, sched config.Schedule,
	hold *runs.Hold) (Result, error) {
	if job.VMTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, job.VMTimeout)
		defer cancel()
	}
	src, err := w.d.Pools.Client(ctx, req.Pool)
	if err != nil {
		return Result{}, err
	}
	dst, err := w.d.Pools.Client(ctx, job.Target.Pool)
	if err != nil {
		return Result{}, err
	}
	spec := Spec{RunID: req.RunID, Job: req.Job, Schedule: req.Schedule, JobID: job.ID, ScheduleID: sched.ID, VMUUID: req.VMUUID,
		TargetSR: job.Target.SR, CopyRetention: sched.CopyRetention}
	if job.XAPICompression != config.CodecNone {
		spec.Compression = job.XAPICompression
	}
	p := w.newProgress(ctx, req, hold)
	res, err := Replicate(ctx, src, dst, spec, Options{Now: w.d.Now, Log: w.d.Log, Progress: p.add})
	p.stop()
	if err == nil && res.PruneErr != nil {
		w.d.Log.Warn("old copies not pruned; the next run retries", "run", req.RunID, "vm_uuid", req.VMUUID, "err", res.PruneErr)
	}
	for _, c := range res.Kept {
		w.d.Log.Info("old copy kept: a failover took it off standby while the retention ran", "run", req.RunID, "vm_uuid", req.VMUUID,
			"copy_uuid", c.UUID)
	}
	return res, err
}

func (w *Worker) completed(req events.ReplicateRequested, res Result) ([]bus.Out, error) {
	c := res.Copy
	p := events.ReplicateCompleted{RunID: req.RunID, Job: req.Job, Schedule: req.Schedule, VMUUID: req.VMUUID,
		VMName: req.VMName, Pool: req.Pool, TargetPool: req.TargetPool, TargetSR: c.SR, CopyUUID: c.UUID,
		CopyName: c.Name, Timestamp: c.Datetime.UTC().Format(xotag.StampLayout), Bytes: res.Bytes,
		DurationMS: c.DurationMS, BytesPerSecond: rate(res.Bytes, c.DurationMS)}
	at := c.Completed
	if at.IsZero() {
		at = w.d.Now()
	}
	o, err := w.d.message(events.DeriveID("replicate.completed", req.RunID, req.VMUUID), at, p)
	return []bus.Out{o}, err
}

// lastFailed reports the VM of work item ev failed with err, the error of
// its last delivery (runs.Flow.Failed).
func (d Deps) lastFailed(_ context.Context, ev bus.Event, err error) ([]bus.Out, error) {
	req, perr := workItem(ev)
	if perr != nil {
		return nil, bus.Permanent(perr)
	}
	return d.failed(req, d.Now(), 0, err)
}

func (d Deps) failed(req events.ReplicateRequested, _ time.Time, attempts int, err error) ([]bus.Out, error) {
	d.Log.Error("replication failed", "run", req.RunID, "job", req.Job, "vm_uuid", req.VMUUID, "attempts", attempts, "error", err)
	p := events.ReplicateFailed{RunID: req.RunID, Job: req.Job, Schedule: req.Schedule, VMUUID: req.VMUUID,
		VMName: req.VMName, Pool: req.Pool, TargetPool: req.TargetPool, TargetSR: req.TargetSR, Error: events.Reason(err)}
	o, merr := d.message(events.DeriveID("replicate.failed", req.RunID, req.VMUUID), d.Now(), p)
	return []bus.Out{o}, merr
}

func rate(bytes, ms int64) int64 {
	if ms <= 0 {
		return 0
	}
	return bytes * 1000 / ms
}

// progress publishes replicate.progress every ProgressEvery while bytes
// flow, and renews the run's lock every runs.RenewEvery through hold (nil
// outside a recorded run), which ends the attempt once another run holds
// the lock; both from a ticker of its own (runs.Tick), as export does: the
// stream only stores its count, so a bus slow to acknowledge never holds
// the transfer.
type progress struct {
	bytes atomic.Int64
	flow  atomic.Bool // bytes have flowed since the last event
	stop  func()
}

func (w *Worker) newProgress(ctx context.Context, req events.ReplicateRequested, hold *runs.Hold) *progress {
	p := &progress{}
	p.stop = runs.Tick(ctx, w.d.ProgressEvery, w.d.Now, func(seq int, elapsed time.Duration, renew bool) {
		if p.flow.Swap(false) {
			w.tick(ctx, req, seq, p.bytes.Load(), elapsed)
		}
		if renew {
			if err := hold.Renew(ctx); err != nil && !errors.Is(err, runs.ErrNotHolder) {
				w.d.Log.Debug("run lock not renewed", "run", req.RunID, "err", err)
			}
		}
	})
	return p
}

// add is Options.Progress: the bytes streamed so far.
func (p *progress) add(bytes int64) {
	p.bytes.Store(bytes)
	p.flow.Store(true)
}

func (w *Worker) tick(ctx context.Context, req events.ReplicateRequested, seq int, bytes int64, elapsed time.Duration) {
	now := w.d.Now()
	ev := events.ReplicateProgress{RunID: req.RunID, Job: req.Job, VMUUID: req.VMUUID,
		Transfer: events.TransferAt(bytes, 0, elapsed)}
	id := events.DeriveID("replicate.progress", req.RunID, req.VMUUID, fmt.Sprint(seq), now.Format(time.RFC3339Nano))
	if m, err := w.d.message(id, now, ev); err == nil && w.d.Publisher != nil {
		if _, err := w.d.Publisher.Publish(ctx, m.Subject, m.Event); err != nil {
			w.d.Log.Debug("progress not published", "vm_uuid", req.VMUUID, "err", err)
		}
	}
}
