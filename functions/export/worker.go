package export

import (
	"context"
	"errors"
	"fmt"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/runs"
)

// Worker backs up one VM per export.requested.
type Worker struct {
	d        Deps
	limiters *limiters
	blocks   *blockPool // the sinks' buffers, reused across backups
}

// NewWorker returns the worker handler.
func NewWorker(d Deps) *Worker {
	return &Worker{d: d.withDefaults(), limiters: newLimiters(), blocks: newBlockPool()}
}

// job is one request with its configuration resolved.
type job struct {
	req      events.ExportRequested
	cfg      config.Job
	schedule string
	run      *runs.Run // nil for a request outside any recorded run
	delivery uint64
}

// jobID and scheduleID are Xen Orchestra's jobId and scheduleId: the
// configured or derived UUIDs (config.Job.ID, config.Schedule.ID).
func (j *job) jobID() string { return j.cfg.ID }

func (j *job) scheduleID() string {
	s, _ := j.cfg.Schedule(j.schedule)
	return s.ID
}

// Handle exports the VM, retrying per the job's settings, and returns
// export.completed or export.failed.
func (w *Worker) Handle(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	req, err := events.PayloadAs[events.ExportRequested](ev.Received)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	cfg, ok := w.d.Config.Job(req.Job)
	if !ok {
		return nil, bus.Permanent(fmt.Errorf("export.requested for unknown job %q", req.Job))
	}
	if _, ok := cfg.Schedule(req.Schedule); !ok {
		return nil, bus.Permanent(fmt.Errorf("job %s has no schedule %q", req.Job, req.Schedule))
	}
	j := &job{req: req, cfg: cfg, schedule: req.Schedule, delivery: ev.Delivery.Attempt}
	outs, err := w.handleRun(ctx, j)
	if err != nil && ctx.Err() == nil && !bus.IsPermanent(err) && ev.Delivery.Last() {
		// The bus would dead-letter the request and the run would wait for
		// this VM for ever: report it failed instead.
		return w.failed(j, w.d.Now(), 0, err)
	}
	return outs, err
}

func (w *Worker) handleRun(ctx context.Context, j *job) ([]bus.Out, error) {
	r, err := w.d.Runs.Get(ctx, j.req.RunID)
	req := j.req
	switch {
	case err == nil && r.Done():
		w.d.Log.Info("request of a run that has ended; dropped", "run", req.RunID, "vm_uuid", req.VMUUID, "status", r.Status)
		return nil, nil
	case err == nil:
		j.run = &r
	case !errors.Is(err, runs.ErrNotFound):
		return nil, err
	}
	return w.handle(ctx, j)
}

func (w *Worker) handle(ctx context.Context, j *job) ([]bus.Out, error) {
	start := w.d.Now()
	vctx, cancel := ctx, context.CancelFunc(func() {})
	if j.cfg.VMTimeout > 0 {
		vctx, cancel = context.WithTimeout(ctx, j.cfg.VMTimeout)
	}
	defer cancel()
	done, attempts, err := w.attempts(vctx, j)
	if err == nil {
		o, err := w.d.message(events.DeriveID("export.completed", j.req.RunID, j.req.VMUUID), done)
		return []bus.Out{o}, err
	}
	if ctx.Err() != nil { // shutting down: let the bus redeliver
		return nil, fmt.Errorf("export vm %s: %w", j.req.VMUUID, err)
	}
	if vctx.Err() != nil {
		err = fmt.Errorf("timed out after %s (vm_timeout): %w", j.cfg.VMTimeout, err)
	}
	return w.failed(j, start, attempts, err)
}

func (w *Worker) failed(j *job, start time.Time, attempts int, err error) ([]bus.Out, error) {
	w.d.Log.Error("export failed", "run", j.req.RunID, "job", j.req.Job, "vm_uuid", j.req.VMUUID, "attempts", attempts, "error", err)
	failed := events.ExportFailed{RunID: j.req.RunID, Job: j.req.Job, Schedule: j.req.Schedule, VMUUID: j.req.VMUUID,
		VMName: j.req.VMName, Pool: j.req.Pool, Error: events.Reason(err), Attempts: int64(attempts),
		DurationMS: w.d.Now().Sub(start).Milliseconds()}
	o, merr := w.d.message(events.DeriveID("export.failed", j.req.RunID, j.req.VMUUID), failed)
	return []bus.Out{o}, merr
}

// attempts runs up to 1+Retries attempts, RetryBackoff apart and doubling.
func (w *Worker) attempts(ctx context.Context, j *job) (events.ExportCompleted, int, error) {
	backoff := j.cfg.RetryBackoff
	for n := 1; ; n++ {
		done, err := w.attempt(ctx, j, n)
		if err == nil {
			return done, n, nil
		}
		if ctx.Err() != nil || bus.IsPermanent(err) || n > j.cfg.Retries {
			return events.ExportCompleted{}, n, err
		}
		w.d.Log.Warn("export attempt failed; retrying", "run", j.req.RunID, "vm_uuid", j.req.VMUUID,
			"attempt", n, "retry_in", backoff, "error", err)
		if werr := w.d.Wait(ctx, backoff); werr != nil {
			return events.ExportCompleted{}, n, err
		}
		backoff = min(2*backoff, time.Hour)
	}
}
