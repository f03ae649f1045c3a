package incremental

import (
	"context"
	"errors"
	"fmt"
	"time"

	"xbr/events"
	"xbr/shared/remote"
	"xbr/shared/repo"
	"xbr/shared/xapi"
	"xbr/shared/xva"
)

// totals is what storing a point did.
type totals struct {
	read, logical, stored, newChunks, reused, patched, unreadable int64
}

// store reads the snapshot's disks by their paths into a new restore point
// at ts and commits it. Nothing is visible until the commit; on error the
// point is aborted.
func (w *Worker) store(ctx context.Context, c *xapi.Client, rp *repo.Repo, snap xapi.VMRef, prev *previous, j *job,
	ts time.Time) (events.IncrementalCompleted, []diskPlan, error) {
	start := w.d.Now()
	ova, disks, err := header(ctx, c, snap)
	if err != nil {
		return events.IncrementalCompleted{}, nil, err
	}
	plans := make([]diskPlan, len(disks))
	for i, d := range disks {
		plans[i] = w.plan(ctx, c, d, prev, j)
	}
	b, err := rp.Begin(ctx, j.req.VMUUID, ts)
	if err != nil {
		return events.IncrementalCompleted{}, nil, err
	}
	defer func() { _ = b.Abort(context.WithoutCancel(ctx)) }()
	tot, err := w.writeDisks(ctx, c, rp, b, plans, j)
	if err != nil {
		return events.IncrementalCompleted{}, nil, err
	}
	sched, _ := j.cfg.Schedule(j.req.Schedule) // Handle checked that it exists
	recs := xva.RepoRecords{Format: xva.RepoFormat, OVAXML: string(ova), VMName: j.req.VMName,
		Job: j.cfg.Name, JobID: j.cfg.ID, Schedule: sched.Name, ScheduleID: sched.ID}
	for _, p := range plans {
		d := p.rec
		d.Path, d.PathReason = p.path, p.reason
		recs.Disks = append(recs.Disks, d)
	}
	body, err := recs.Encode()
	if err != nil {
		return events.IncrementalCompleted{}, nil, err
	}
	if _, err := b.Commit(ctx, body); err != nil {
		return events.IncrementalCompleted{}, nil, err
	}
	return w.completed(j, b.Point(), plans, tot, w.d.Now().Sub(start)), plans, nil
}

// writeDisks writes every disk in order, counting and limiting the bytes
// read from the host.
func (w *Worker) writeDisks(ctx context.Context, c *xapi.Client, rp *repo.Repo, b *repo.Backup, plans []diskPlan,
	j *job) (totals, error) {
	prog := w.progress(ctx, j)
	defer prog.stop()
	for _, p := range plans {
		if p.path == events.PathFullScan {
			prog.total.Add(p.size)
		}
	}
	lim, release := w.limiters.take(j.req.RunID, int64(j.cfg.RateLimit))
	defer release()
	m := meter{lim: lim, prog: prog}
	var tot totals
	for i := range plans {
		st, err := w.writeDisk(ctx, c, rp, b, &plans[i], m, j)
		if err != nil {
			return totals{}, err
		}
		tot.logical += st.BytesIn
		tot.patched += plans[i].patched
		tot.unreadable += plans[i].unreadable
		tot.stored += st.BytesStored
		tot.newChunks += st.NewChunks
		tot.reused += st.ReusedChunks + st.DedupChunks
	}
	tot.read = prog.n.Load()
	return tot, nil
}

// completed is the incremental.completed of a committed point. The path is
// cbt only when every disk was read by its changed blocks; otherwise the
// reason is the first whole-read disk's.
func (w *Worker) completed(j *job, p repo.Point, plans []diskPlan, tot totals, elapsed time.Duration) events.IncrementalCompleted {
	ev := events.IncrementalCompleted{RunID: j.req.RunID, Job: j.req.Job, Schedule: j.req.Schedule, VMUUID: j.req.VMUUID,
		VMName: j.req.VMName, Pool: j.req.Pool, Timestamp: p.Time.UTC().Format(stampLayout), Path: events.PathCBT,
		BytesRead: tot.read, BytesStored: tot.stored, ChunksNew: tot.newChunks, ChunksReused: tot.reused,
		ChunksPatched: tot.patched, BaseChunksUnreadable: tot.unreadable,
		DurationMS: elapsed.Milliseconds(), Backups: []events.RemoteBackup{{Remote: j.req.Remote, BackupID: PointID(j.req.Remote, p)}}}
	for _, d := range plans {
		if d.path != events.PathCBT {
			ev.Path, ev.PathReason = events.PathFullScan, d.reason
			break
		}
	}
	if len(plans) == 0 {
		ev.Path, ev.PathReason = events.PathFullScan, events.PathReasonFirstRun
	}
	if tot.stored > 0 {
		ev.DedupRatio = float64(tot.logical) / float64(tot.stored)
	}
	if s := elapsed.Seconds(); s > 0 {
		ev.BytesPerSecond = int64(float64(tot.read) / s)
	}
	return ev
}

// PointID is the restore point id of events, the CLI and the web page:
// <remote>:xbr-repo/<vm-uuid>/<YYYYMMDDTHHMMSSZ>.
func PointID(remote string, p repo.Point) string { return remote + ":xbr-repo/" + p.String() }

// committed looks for a point of this run's earlier attempts (a
// redelivery after the work was done) and reports it again, with the paths
// its records name; what that attempt read and stored is not known any
// more and is reported as 0. A point at such a time whose records name
// another job is that job's, not this run's.
func (w *Worker) committed(ctx context.Context, rp *repo.Repo, j *job) (events.IncrementalCompleted, bool, error) {
	for _, ts := range w.attemptTimes(j) {
		p := repo.Point{VM: j.req.VMUUID, Time: ts}
		m, err := rp.Manifest(ctx, p)
		if errors.Is(err, remote.ErrNotFound) {
			continue
		}
		if err != nil {
			return events.IncrementalCompleted{}, false, fmt.Errorf("read restore point %s: %w", p, err)
		}
		recs, err := xva.DecodeRepoRecords(m.Records)
		if err != nil {
			return events.IncrementalCompleted{}, false, fmt.Errorf("restore point %s: %w", p, err)
		}
		if recs.JobID != "" && recs.JobID != j.cfg.ID {
			continue // another job holding the VM took that second, and the attempt was refused
		}
		w.d.Log.Info("restore point of this run already committed; reporting it again", "run", j.req.RunID, "vm_uuid", j.req.VMUUID)
		plans := make([]diskPlan, len(recs.Disks))
		for i, d := range recs.Disks {
			plans[i].path, plans[i].reason = d.Path, d.PathReason
			if d.Path == "" {
				plans[i].path, plans[i].reason = events.PathFullScan, events.PathReasonCBTError
			}
		}
		return w.completed(j, p, plans, totals{}, 0), true, nil
	}
	return events.IncrementalCompleted{}, false, nil
}
