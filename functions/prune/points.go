package prune

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/fn"
	"xbr/shared/remote"
	"xbr/shared/repo"
	"xbr/shared/retention"
	"xbr/shared/xva"
)

// Repos opens the remotes' incremental repositories (*fn.Repos). Open
// returns an error wrapping fn.ErrNoRepository when a remote has none.
type Repos interface {
	Open(ctx context.Context, name string) (*repo.Repo, error)
}

// PointsDone is what pruning needs of a completed incremental backup of one
// VM: its run, job, schedule and the restore point written on each remote
// (ids <remote>:xbr-repo/<vm-uuid>/<YYYYMMDDTHHMMSSZ>).
type PointsDone struct {
	RunID, Job, Schedule, VMUUID string
	Backups                      []events.RemoteBackup
}

// ParsePointID splits a restore point id, <remote>:xbr-repo/<vm-uuid>/<ts>
// (catalog.ParseID), into its remote and point; a full backup's id is
// refused.
func ParsePointID(id string) (string, repo.Point, error) {
	cid, err := catalog.ParseID(id)
	if err != nil {
		return "", repo.Point{}, err
	}
	if !cid.Repo {
		return "", repo.Point{}, fmt.Errorf("backup id %s: not a restore point of an incremental repository (want <remote>:xbr-repo/<vm uuid>/<YYYYMMDDTHHMMSSZ>)", cid)
	}
	return cid.Remote, repo.Point{VM: cid.VM, Time: cid.Time}, nil
}

// PointID is the id of restore point p on remote rem.
func PointID(rem string, p repo.Point) string {
	return catalog.ID{Remote: rem, VM: p.VM, Time: p.Time, Repo: true}.String()
}

// Points prunes, on every remote of a completed incremental backup, the
// restore points of its VM beyond the schedule's retention (depth and
// long-term buckets, as for full backups). It returns one prune.completed or
// prune.failed per remote; trigger (the backup event's id) derives their ids.
// The repository's garbage is collected once the run has ended (AfterRun),
// here only when the run ended before this prune deleted points.
//
// The scope is the VM's points on that remote taken by the same job and
// schedule (their ids, recorded in each point's records), as for full
// backups; a point written before points recorded them counts in every
// scope, as it did then.
func (p *Pruner) Points(ctx context.Context, trigger string, e PointsDone) ([]bus.Out, error) {
	job, sched, err := p.jobSchedule(e.Job, e.Schedule)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	if p.repos == nil {
		return nil, bus.Permanent(errors.New("no incremental repositories are configured in the prune function"))
	}
	policy := Policy(sched)
	var outs []bus.Out
	for _, b := range e.Backups {
		deleted, kept, err := p.prunePoints(ctx, e.VMUUID, b, policy, pointScope{job: job.ID, schedule: sched.ID,
			jobName: job.Name, scheduleName: sched.Name})
		if err != nil && ctx.Err() != nil {
			return nil, err // shutting down: the redelivery decides again
		}
		out, merr := p.pointsOutcome(trigger, e, b.Remote, int64(policy.Depth), kept, deleted, nil, err)
		if merr != nil {
			return nil, merr
		}
		outs = append(outs, out)
		if len(deleted) > 0 && p.ended.has(e.RunID) { // the run's GC has been and gone
			gc, err := p.collectDue(ctx, e.RunID, e.Job, e.Schedule, trigger, b.Remote)
			if err != nil { // shutting down: what was deleted is reported; the repository stays due
				return outs, nil
			}
			outs = append(outs, gc...)
		}
	}
	return outs, nil
}

// prunePoints decides on the VM's restore points of scope in one repository
// and deletes those outside the retention, oldest first. It returns what it
// deleted even when a deletion fails; it goes on past a point it cannot
// delete, and the error names each.
func (p *Pruner) prunePoints(ctx context.Context, vm string, b events.RemoteBackup, policy retention.Policy,
	scope pointScope) ([]events.PrunedItem, []string, error) {
	rem, newPoint, err := ParsePointID(b.BackupID)
	if err != nil {
		return nil, nil, err
	}
	if rem != b.Remote || newPoint.VM != vm {
		return nil, nil, fmt.Errorf("restore point %s is not of vm %s on remote %s; nothing pruned", b.BackupID, vm, b.Remote)
	}
	rp, err := p.repos.Open(ctx, b.Remote)
	if err != nil {
		return nil, nil, err
	}
	points, err := rp.List(ctx, vm)
	if err != nil {
		return nil, nil, err
	}
	listed := func(points []repo.PointInfo) bool {
		return slices.ContainsFunc(points, func(pi repo.PointInfo) bool { return !pi.Time.Before(newPoint.Time) })
	}
	if !listed(points) {
		return nil, nil, fmt.Errorf("the new restore point %s is not listed on its remote; nothing pruned", b.BackupID)
	}
	var damaged map[repo.Point]bool
	if points, damaged, err = p.inScope(ctx, rp, points, scope); err != nil {
		return nil, nil, err
	}
	if !listed(points) {
		return nil, nil, fmt.Errorf("the new restore point %s is not among the points of job %s, schedule %s on its remote "+
			"(its records name another job or schedule, as after a rename without id:, or cannot be read); nothing pruned",
			b.BackupID, scope.jobName, scope.scheduleName)
	}
	// A damaged point is no item of the decision: it cannot be restored, so
	// it must not stand for a day or a month in place of the points that can.
	var items []retention.Item
	byID := make(map[string]repo.Point, len(points))
	for _, pi := range points {
		id := PointID(b.Remote, pi.Point)
		byID[id] = pi.Point
		if !damaged[pi.Point] {
			items = append(items, retention.Item{ID: id, Time: pi.Time})
		}
	}
	d, err := retention.Decide(items, policy)
	if err != nil {
		return nil, nil, err
	}
	if d.Reasons == nil {
		d.Reasons = map[string][]string{}
	}
	d.Remove = append(d.Remove, damagedOutside(points, damaged, policy.Depth, b.Remote, d.Reasons)...)
	slices.SortFunc(d.Remove, func(a, b retention.Item) int { return b.Time.Compare(a.Time) })
	var kept []string
	for _, it := range d.Keep {
		kept = append(kept, it.ID)
	}
	// Oldest first; one that cannot be deleted does not stop the others, or
	// every later prune would stop at it and keep every older point. GC
	// stays correct: the point left is still listed, so its chunks stay
	// referenced, and each point deleted marks the repository due.
	var deleted []events.PrunedItem
	var errs []error
	for _, it := range slices.Backward(d.Remove) {
		pt := byID[it.ID]
		if err := rp.Delete(ctx, pt); err != nil {
			errs = append(errs, err) // it names the point
			if ctx.Err() != nil {
				break
			}
			continue
		}
		deleted = append(deleted, events.PrunedItem{ID: it.ID, Timestamp: catalog.FormatTimestamp(pt.Time),
			Reason: reason(d.Reasons[it.ID])})
	}
	return deleted, kept, errors.Join(errs...)
}

// GCStats is the events form of a GC report.
func GCStats(r repo.GCReport) events.GCStats {
	return events.GCStats{ChunksSwept: int64(r.Swept), BytesSwept: r.SweptBytes, Deferred: r.Deferred}
}

func (p *Pruner) pointsOutcome(trigger string, e PointsDone, rem string, depth int64, kept []string,
	deleted []events.PrunedItem, gc *events.GCStats, err error) (bus.Out, error) {
	if err != nil {
		if errors.Is(err, fn.ErrNoRepository) {
			err = fmt.Errorf("remote %s holds no incremental repository, so not the new restore point", rem)
		}
		p.o.Log.Warn("prune failed; the next completed backup prunes again", "remote", rem, "job", e.Job, "vm_uuid", e.VMUUID, "err", err)
		return p.message(events.DeriveID("prune.failed", trigger, rem), events.PruneFailed{
			RunID: e.RunID, Job: e.Job, Schedule: e.Schedule, VMUUID: e.VMUUID, Kind: events.PruneBackups,
			Remote: rem, Error: events.Reason(err), Deleted: deleted})
	}
	return p.message(events.DeriveID("prune.completed", trigger, rem), events.PruneCompleted{
		RunID: e.RunID, Job: e.Job, Schedule: e.Schedule, VMUUID: e.VMUUID, Kind: events.PruneBackups,
		Remote: rem, Retention: depth, Kept: kept, Deleted: deleted, GC: gc})
}

// damagedOutside is the damaged points (in points, newest first) that depth
// restorable points newer than them push out: they go as a point outside the
// depth would, and GC, which stops on them, can run again. Their reason is
// recorded in reasons.
func damagedOutside(points []repo.PointInfo, damaged map[repo.Point]bool, depth int, remote string, reasons map[string][]string) []retention.Item {
	points = slices.SortedFunc(slices.Values(points), func(a, b repo.PointInfo) int { return b.Time.Compare(a.Time) })
	var out []retention.Item
	newer := 0
	for _, pi := range points {
		switch {
		case !damaged[pi.Point]:
			newer++
		case newer >= depth:
			id := PointID(remote, pi.Point)
			out = append(out, retention.Item{ID: id, Time: pi.Time})
			reasons[id] = []string{fmt.Sprintf("manifest damaged (it cannot be restored), %d restorable points newer", newer)}
		}
	}
	return out
}

// pointScope is the job and schedule a prune decides for: their ids, and their names for errors.
type pointScope struct{ job, schedule, jobName, scheduleName string }

// inScope keeps the points of scope: those whose records name its job and
// schedule ids, and those whose records name none (written before points
// recorded them, which counted in every scope then). A point whose manifest
// is damaged (read through, but not valid: read errors are not damage) counts
// in every scope: it cannot be restored, its scope cannot be known, and GC
// stops on it, so it goes once depth restorable points are newer (it is
// returned in damaged, and never stands for a bucket). A point whose manifest is
// sound but whose records name no readable scope is left alone: GC can read
// it. A point deleted meanwhile is left out; a manifest that cannot be opened
// or read through (a network or disk error) fails the prune, which then
// deletes nothing.
func (p *Pruner) inScope(ctx context.Context, rp *repo.Repo, points []repo.PointInfo, scope pointScope) ([]repo.PointInfo, map[repo.Point]bool, error) {
	keep := make([]bool, len(points))
	errs := make([]error, len(points))
	damaged := map[repo.Point]bool{}
	var mu sync.Mutex
	rp.EachManifest(ctx, points, func(i int, m *repo.Manifest, err error) {
		keep[i], errs[i] = p.pointInScope(points[i].Point, m, err, scope)
		if errors.Is(err, repo.ErrCorrupt) {
			mu.Lock()
			damaged[points[i].Point] = true
			mu.Unlock()
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, nil, fmt.Errorf("reading the points' job and schedule; nothing pruned: %w", err)
	}
	var out []repo.PointInfo
	for i, pi := range points {
		if keep[i] {
			out = append(out, pi)
		}
	}
	return out, damaged, nil
}

// pointInScope says whether point pt, whose manifest read gave m and err, is in scope.
func (p *Pruner) pointInScope(pt repo.Point, m *repo.Manifest, err error, scope pointScope) (bool, error) {
	switch {
	case errors.Is(err, remote.ErrNotFound):
		return false, nil
	case errors.Is(err, repo.ErrCorrupt):
		p.o.Log.Warn("restore point's manifest is damaged; it counts in every retention scope (it cannot be restored, and GC stops on it while it is there)",
			"point", pt.String(), "err", err)
		return true, nil
	case err != nil:
		return false, err
	}
	s, err := xva.DecodeRepoScope(m.Records)
	if err != nil {
		p.o.Log.Warn("restore point's records name no readable job and schedule; left alone by retention",
			"point", pt.String(), "err", err)
		return false, nil
	}
	return s.Unscoped() || (s.JobID == scope.job && s.ScheduleID == scope.schedule), nil
}
