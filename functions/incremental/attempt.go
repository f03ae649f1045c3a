package incremental

import (
	"context"
	"errors"
	"fmt"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/remote"
	"xbr/shared/repo"
	"xbr/shared/xapi"
)

// attempt is one try at the VM's restore point: it returns the completed
// event, or an error after removing the snapshot it took.
func (w *Worker) attempt(ctx context.Context, j *job, n int) (events.IncrementalCompleted, error) {
	c, err := w.d.Pools.Client(ctx, j.req.Pool)
	if err != nil {
		return events.IncrementalCompleted{}, err
	}
	rp, err := w.d.Repos.Ensure(ctx, j.req.Remote)
	if err != nil { // its errors name the remote already
		return events.IncrementalCompleted{}, err
	}
	if done, ok, err := w.committedCleaned(ctx, c, rp, j); err != nil || ok {
		return done, err
	}
	vm, err := c.VMByUUID(ctx, j.req.VMUUID)
	if err != nil {
		if xapi.IsCode(err, "UUID_INVALID") {
			return events.IncrementalCompleted{}, bus.Permanent(fmt.Errorf("vm %s is not in pool %s: %w", j.req.VMUUID, j.req.Pool, err))
		}
		return events.IncrementalCompleted{}, fmt.Errorf("find vm %s: %w", j.req.VMUUID, err)
	}
	prev, err := w.lastPoint(ctx, rp, j)
	if err != nil {
		return events.IncrementalCompleted{}, err
	}
	if err := w.sweepSnapshots(ctx, c, vm, prev, j); err != nil {
		return events.IncrementalCompleted{}, fmt.Errorf("remove leftovers of earlier attempts: %w", err)
	}
	ts, err := w.stamp(ctx, rp, j)
	if err != nil {
		return events.IncrementalCompleted{}, err
	}
	w.started(ctx, j, n)
	if j.req.CBT == events.CBTEnable {
		w.enableCBT(ctx, c, vm, j)
	}
	snap, err := w.snapshot(ctx, c, vm, j, ts)
	if err != nil {
		if snap != "" {
			w.destroySnapshot(ctx, c, snap, j)
		}
		return events.IncrementalCompleted{}, err
	}
	done, plans, err := w.store(ctx, c, rp, snap, prev, j, ts)
	if err != nil {
		return w.storeFailed(ctx, c, rp, snap, j, ts, err)
	}
	if w.d.afterCommit != nil {
		if err := w.d.afterCommit(); err != nil {
			return events.IncrementalCompleted{}, err
		}
	}
	w.retire(ctx, c, snap, plans, prev, j)
	return done, nil
}

// stamp picks this attempt's point time — after every earlier attempt's and
// not taken by a point of the VM — and records it in the run before
// anything is written.
func (w *Worker) stamp(ctx context.Context, rp *repo.Repo, j *job) (time.Time, error) {
	ts := w.d.Now().UTC().Truncate(time.Second)
	for _, a := range w.attemptTimes(j) {
		if !a.Before(ts) {
			ts = a.Add(time.Second)
		}
	}
	points, err := rp.List(ctx, j.req.VMUUID)
	if err != nil {
		return time.Time{}, err
	}
	for _, p := range points {
		if !p.Time.Before(ts) {
			ts = p.Time.Add(time.Second)
		}
	}
	if j.run == nil {
		return ts, nil
	}
	r, err := w.d.Runs.RecordAttempt(ctx, j.req.RunID, j.req.VMUUID, ts.Format(stampLayout))
	if err != nil {
		return time.Time{}, fmt.Errorf("record attempt: %w", err)
	}
	j.run = &r
	return ts, nil
}

const stampLayout = "20060102T150405Z"

// attemptTimes are the point times of earlier attempts on this VM in this
// run, newest first.
func (w *Worker) attemptTimes(j *job) []time.Time {
	if j.run == nil {
		return nil
	}
	v, _ := j.run.VM(j.req.VMUUID)
	var out []time.Time
	for i := len(v.Attempts) - 1; i >= 0; i-- {
		if t, err := time.Parse(stampLayout, v.Attempts[i]); err == nil {
			out = append(out, t)
		}
	}
	return out
}

// started publishes incremental.started on the side channel.
func (w *Worker) started(ctx context.Context, j *job, n int) {
	j.n = n
	p := events.IncrementalStarted{RunID: j.req.RunID, Job: j.req.Job, Schedule: j.req.Schedule, VMUUID: j.req.VMUUID,
		VMName: j.req.VMName, Pool: j.req.Pool, Remote: j.req.Remote, Attempt: int64(n)}
	w.publish(ctx, j.eventID("incremental.started"), p)
}

// eventID is the id of an event of type kind of the attempt under way: from
// the run, the VM, the delivery, the attempt, whether it is the raw retry
// (which runs under the same attempt number), and more. The bus drops an
// event whose id it has seen, so the attempts of one VM must not share them.
func (j *job) eventID(kind string, more ...string) string {
	parts := []string{kind, j.req.RunID, j.req.VMUUID, fmt.Sprint(j.delivery), fmt.Sprint(j.n)}
	if j.raw {
		parts = append(parts, "raw")
	}
	return events.DeriveID(append(parts, more...)...)
}

// storeFailed ends an attempt whose store failed with err. A commit may fail
// after its manifest was written (a write whose answer was lost): when the
// manifest is there and the lease held, the point stands (it is reported and
// its cleanup done, not failed with its snapshot left); when the lease lapsed
// (repo.ErrLeaseLapsed) a manifest left behind may name chunks a GC swept, so
// the attempt fails and keeps the snapshot. With no manifest, the snapshot
// goes.
func (w *Worker) storeFailed(ctx context.Context, c *xapi.Client, rp *repo.Repo, snap xapi.VMRef, j *job, ts time.Time, err error) (events.IncrementalCompleted, error) {
	octx := context.WithoutCancel(ctx)
	_, merr := rp.Manifest(octx, repo.Point{VM: j.req.VMUUID, Time: ts})
	switch {
	case errors.Is(merr, remote.ErrNotFound):
		w.destroySnapshot(ctx, c, snap, j)
		return events.IncrementalCompleted{}, err
	case merr == nil && !errors.Is(err, repo.ErrLeaseLapsed):
		if done, ok, cerr := w.committedCleaned(octx, c, rp, j); cerr == nil && ok {
			w.d.Log.Warn("the commit reported an error after the restore point's manifest was written; the point stands",
				"vm_uuid", j.req.VMUUID, "error", err)
			return done, nil
		}
	}
	w.d.Log.Warn("restore point may be committed; its snapshot is kept", "vm_uuid", j.req.VMUUID, "point_error", merr, "error", err)
	return events.IncrementalCompleted{}, err
}

// committedCleaned is committed, finishing the cleanup of the point it
// finds: the attempt that committed it may have stopped before its cleanup.
func (w *Worker) committedCleaned(ctx context.Context, c *xapi.Client, rp *repo.Repo, j *job) (events.IncrementalCompleted, bool, error) {
	done, ok, err := w.committed(ctx, rp, j)
	if ok {
		w.finishCleanup(ctx, c, rp, j)
	}
	return done, ok, err
}

// finishCleanup retires the snapshot of a point an earlier attempt committed
// (stopped, or its commit's answer lost, before its cleanup): the sweep keeps
// its disks as the next base and removes the snapshot VM and older bases.
// Failures are logged: the point is committed, the next run sweeps again.
func (w *Worker) finishCleanup(ctx context.Context, c *xapi.Client, rp *repo.Repo, j *job) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	vm, err := c.VMByUUID(cctx, j.req.VMUUID)
	var prev *previous
	if err == nil {
		prev, err = w.lastPoint(cctx, rp, j)
	}
	if err == nil {
		err = w.sweepSnapshots(cctx, c, vm, prev, j)
	}
	if err != nil {
		w.d.Log.Warn("cleanup after an earlier attempt's commit failed; the next run sweeps again", "vm_uuid", j.req.VMUUID, "error", err)
	}
}
