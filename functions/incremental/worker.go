package incremental

import (
	"context"
	"errors"
	"fmt"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/runs"
	"xbr/shared/vhd"
	"xbr/shared/xapi"
)

// Worker stores one restore point per incremental.requested.
type Worker struct {
	d        Deps
	limiters *limiters
}

// newWorker returns the worker handler without the skeleton (NewWorker).
func newWorker(d Deps) *Worker { return &Worker{d: d.withDefaults(), limiters: newLimiters()} }

// job is one request with its configuration resolved.
type job struct {
	req      events.IncrementalRequested
	cfg      config.Job
	run      *runs.Run  // nil for a request outside any recorded run
	hold     *runs.Hold // renews the run's lock as the attempt streams; nil with run
	delivery uint64
	raw      bool  // full scans read format=raw: the host's VHD stream was unreadable
	plain    *bool // the pool's NBD speaks plain text (insecure_nbd); read once per job
	n        int   // the attempt under way (started sets it)
}

// plainNBD reports whether the pool's NBD networks are insecure_nbd, reading
// the networks once for the whole job, not per disk.
func (j *job) plainNBD(ctx context.Context, c *xapi.Client) (bool, error) {
	if j.plain == nil {
		nets, err := c.Networks(ctx)
		if err != nil {
			return false, fmt.Errorf("network.get_all_records: %w", err)
		}
		plain := xapi.PlainNBD(nets)
		j.plain = &plain
	}
	return *j.plain, nil
}

// Handle backs up the VM, retrying per the job's settings, and returns
// incremental.completed or incremental.failed.
func (w *Worker) Handle(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	req, err := events.PayloadAs[events.IncrementalRequested](ev.Received)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	cfg, ok := w.d.Config.Job(req.Job)
	if !ok {
		return nil, bus.Permanent(fmt.Errorf("incremental.requested for unknown job %q", req.Job))
	}
	if cfg.Mode != config.ModeIncremental {
		return nil, bus.Permanent(fmt.Errorf("incremental.requested for job %s of mode %q", req.Job, cfg.Mode))
	}
	if _, ok := cfg.Schedule(req.Schedule); !ok {
		return nil, bus.Permanent(fmt.Errorf("job %s has no schedule %q", req.Job, req.Schedule))
	}
	return w.handleRun(ctx, &job{req: req, cfg: cfg, delivery: ev.Delivery.Attempt})
}

// lastFailed reports the VM of request ev failed with err, the error of its
// last delivery (runs.Flow.Failed).
func (d Deps) lastFailed(_ context.Context, ev bus.Event, err error) ([]bus.Out, error) {
	req, perr := events.PayloadAs[events.IncrementalRequested](ev.Received)
	if perr != nil {
		return nil, bus.Permanent(perr)
	}
	return d.failed(req, d.Now(), 0, err)
}

func (w *Worker) handleRun(ctx context.Context, j *job) ([]bus.Out, error) {
	return runs.Work(ctx, w.d.workerEnv(), runs.VMWork[events.IncrementalCompleted]{
		Job: j.cfg, RunID: j.req.RunID, VM: j.req.VMUUID,
		Attempt: func(ctx context.Context, run *runs.Run, hold *runs.Hold, n int) (events.IncrementalCompleted, error) {
			if j.run == nil { // later attempts keep the run their predecessors recorded themselves in
				j.run = run
			}
			j.hold = hold
			done, err := w.attempt(ctx, j, n)
			if errors.Is(err, vhd.ErrFormat) && !j.raw && ctx.Err() == nil {
				// A VHD stream this reader refuses is no reason to fail the VM: the raw
				// export reads the same disk, every byte of it.
				w.d.Log.Warn("the host's VHD export is unreadable; the attempt is made again reading the disk raw",
					"vm", j.req.VMUUID, "err", err)
				j.raw = true
				done, err = w.attempt(ctx, j, n)
			}
			return done, err
		},
		Completed: func(done events.IncrementalCompleted) ([]bus.Out, error) {
			o, err := w.d.message(events.DeriveID("incremental.completed", j.req.RunID, j.req.VMUUID), done)
			return []bus.Out{o}, err
		},
		Failed: func(start time.Time, attempts int, err error) ([]bus.Out, error) {
			return w.d.failed(j.req, start, attempts, err)
		},
	})
}

func (d Deps) workerEnv() runs.WorkerEnv {
	return runs.WorkerEnv{Runs: d.Runs, Log: d.Log, Now: d.Now, Wait: d.Wait, Work: "incremental"}
}

func (d Deps) failed(req events.IncrementalRequested, start time.Time, attempts int, err error) ([]bus.Out, error) {
	d.Log.Error("incremental backup failed", "run", req.RunID, "job", req.Job, "vm_uuid", req.VMUUID,
		"attempts", attempts, "error", err)
	failed := events.IncrementalFailed{RunID: req.RunID, Job: req.Job, Schedule: req.Schedule, VMUUID: req.VMUUID,
		VMName: req.VMName, Pool: req.Pool, Error: events.Reason(err), Attempts: int64(attempts),
		DurationMS: d.Now().Sub(start).Milliseconds()}
	o, merr := d.message(events.DeriveID("incremental.failed", req.RunID, req.VMUUID), failed)
	return []bus.Out{o}, merr
}

// publish sends a side-channel event (started, progress); a failure is only
// logged, the event is informative.
func (w *Worker) publish(ctx context.Context, id string, p events.Payload) {
	if w.d.Publisher == nil {
		return
	}
	m, err := w.d.message(id, p)
	if err == nil {
		_, err = w.d.Publisher.Publish(ctx, m.Subject, m.Event)
	}
	if err != nil && ctx.Err() == nil {
		w.d.Log.Warn("publish failed", "event_type", p.EventType(), "error", err)
	}
}
