package export

import (
	"context"
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

// newWorker returns the worker handler without the skeleton (NewWorker).
func newWorker(d Deps) *Worker {
	return &Worker{d: d.withDefaults(), limiters: newLimiters(), blocks: newBlockPool()}
}

// job is one request with its configuration resolved.
type job struct {
	req      events.ExportRequested
	cfg      config.Job
	schedule string
	run      *runs.Run  // nil for a request outside any recorded run
	hold     *runs.Hold // renews the run's lock as the attempt streams; nil with run
	delivery uint64
	n        int // the attempt under way (started sets it): in its events' ids
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
	return w.handleRun(ctx, &job{req: req, cfg: cfg, schedule: req.Schedule, delivery: ev.Delivery.Attempt})
}

// lastFailed reports the VM of request ev failed with err, the error of its
// last delivery (runs.Flow.Failed).
func (d Deps) lastFailed(_ context.Context, ev bus.Event, err error) ([]bus.Out, error) {
	req, perr := events.PayloadAs[events.ExportRequested](ev.Received)
	if perr != nil {
		return nil, bus.Permanent(perr)
	}
	return d.failed(req, d.Now(), 0, err)
}

func (w *Worker) handleRun(ctx context.Context, j *job) ([]bus.Out, error) {
	return runs.Work(ctx, w.d.workerEnv(), runs.VMWork[events.ExportCompleted]{
		Job: j.cfg, RunID: j.req.RunID, VM: j.req.VMUUID,
		Attempt: func(ctx context.Context, run *runs.Run, hold *runs.Hold, n int) (events.ExportCompleted, error) {
			if j.run == nil { // later attempts keep the run their predecessors recorded themselves in
				j.run = run
			}
			j.hold = hold
			return w.attempt(ctx, j, n)
		},
		Completed: func(done events.ExportCompleted) ([]bus.Out, error) {
			o, err := w.d.message(events.DeriveID("export.completed", j.req.RunID, j.req.VMUUID), done)
			return []bus.Out{o}, err
		},
		Failed: func(start time.Time, attempts int, err error) ([]bus.Out, error) {
			return w.d.failed(j.req, start, attempts, err)
		},
	})
}

func (d Deps) workerEnv() runs.WorkerEnv {
	return runs.WorkerEnv{Runs: d.Runs, Log: d.Log, Now: d.Now, Wait: d.Wait, Work: "export"}
}

func (d Deps) failed(req events.ExportRequested, start time.Time, attempts int, err error) ([]bus.Out, error) {
	d.Log.Error("export failed", "run", req.RunID, "job", req.Job, "vm_uuid", req.VMUUID, "attempts", attempts, "error", err)
	failed := events.ExportFailed{RunID: req.RunID, Job: req.Job, Schedule: req.Schedule, VMUUID: req.VMUUID,
		VMName: req.VMName, Pool: req.Pool, Error: events.Reason(err), Attempts: int64(attempts),
		DurationMS: d.Now().Sub(start).Milliseconds()}
	o, merr := d.message(events.DeriveID("export.failed", req.RunID, req.VMUUID), failed)
	return []bus.Out{o}, merr
}
