package prune

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/config"
	"xbr/shared/retention"
)

// Policy is a schedule's retention of backups on a remote: its depth and
// long-term buckets in its time zone.
func Policy(s config.Schedule) retention.Policy {
	return retention.Policy{Depth: s.Retention, Daily: s.LongTerm.Daily, Weekly: s.LongTerm.Weekly,
		Monthly: s.LongTerm.Monthly, Yearly: s.LongTerm.Yearly, Location: s.Location}
}

// Backups prunes, on every remote of a completed export, the backups of its
// VM, job and schedule beyond the schedule's retention. It returns one
// prune.completed or prune.failed per remote; trigger (the export event's
// id) derives their ids.
func (p *Pruner) Backups(ctx context.Context, trigger string, e events.ExportCompleted) ([]bus.Out, error) {
	job, sched, err := p.jobSchedule(e.Job, e.Schedule)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	policy := Policy(sched)
	scope := catalog.Filter{VM: e.VMUUID, JobID: job.ID, ScheduleID: sched.ID,
		FormerJobID: e.Job, FormerScheduleID: e.Schedule}
	var outs []bus.Out
	for _, b := range e.Backups {
		deleted, kept, err := p.pruneRemote(ctx, e, b, scope, policy)
		if err != nil && ctx.Err() != nil {
			return nil, err // shutting down: the redelivery decides again
		}
		out, merr := p.backupsOutcome(trigger, e, b.Remote, int64(policy.Depth), kept, deleted, err)
		if merr != nil {
			return nil, merr
		}
		outs = append(outs, out)
	}
	return outs, nil
}

// pruneRemote lists the scope on one remote, decides and deletes, oldest
// first. It returns what it deleted even when a deletion fails; it goes on
// past a backup it cannot delete, and the error names each.
//
// scope names the job and schedule by their UUIDs and, for backups an older
// xbr wrote, by their names.
func (p *Pruner) pruneRemote(ctx context.Context, e events.ExportCompleted, b events.RemoteBackup, scope catalog.Filter,
	policy retention.Policy) ([]events.PrunedItem, []string, error) {
	newID, err := catalog.ParseID(b.BackupID)
	if err != nil {
		return nil, nil, err
	}
	r, err := p.remotes.Get(ctx, b.Remote)
	if err != nil {
		return nil, nil, err
	}
	f, err := lockFolder(ctx, r, e.VMUUID)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err := f.unlock(); err != nil {
			p.o.Log.Warn("VM folder lock", "remote", b.Remote, "vm_uuid", e.VMUUID, "err", err)
		}
	}()
	deleted, kept, err := p.pruneFolder(ctx, f, newID, scope, policy)
	return deleted, kept, errors.Join(err, p.refreshCache(ctx, f))
}

// pruneFolder is pruneRemote in the VM folder f, locked. It stops at a
// failed check of the lock (lockedFolder.check).
func (p *Pruner) pruneFolder(ctx context.Context, f *lockedFolder, newID catalog.ID, scope catalog.Filter,
	policy retention.Policy) ([]events.PrunedItem, []string, error) {
	r := f.r
	backups, problems, err := catalog.List(ctx, r, scope)
	if err != nil {
		return nil, nil, err
	}
	for _, pr := range problems {
		p.o.Log.Warn("unreadable backup metadata left alone", "remote", r.Name(), "key", pr.Key, "err", pr.Err)
	}
	if err := newestCompleted(backups, newID); err != nil {
		return nil, nil, err
	}
	d, err := retention.Decide(items(backups), policy)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[string]catalog.Backup, len(backups))
	for _, bk := range backups {
		byID[bk.ID.String()] = bk
	}
	var kept []string
	for _, it := range d.Keep {
		kept = append(kept, it.ID)
	}
	// Oldest first; one that cannot be deleted does not stop the others, or
	// every later prune would stop at it and keep every older backup.
	var deleted []events.PrunedItem
	var errs []error
	for _, it := range slices.Backward(d.Remove) {
		if err := f.check(ctx); err != nil {
			errs = append(errs, err)
			break
		}
		bk := byID[it.ID]
		if err := catalog.Delete(ctx, r, bk.ID); err != nil {
			errs = append(errs, err) // it names the backup
			if ctx.Err() != nil {
				break
			}
			continue
		}
		deleted = append(deleted, events.PrunedItem{ID: it.ID, Timestamp: bk.ID.Timestamp(), Reason: reason(d.Reasons[it.ID])})
	}
	return deleted, kept, errors.Join(errs...)
}

// newestCompleted checks the rule that makes pruning safe: the backup just
// written (or a newer one of the same scope) is listed, so a completed
// backup stands above everything deleted.
func newestCompleted(backups []catalog.Backup, newID catalog.ID) error {
	for _, bk := range backups {
		if bk.ID == newID || bk.Timestamp.After(newID.Time) {
			return nil
		}
	}
	return fmt.Errorf("the new backup %s is not listed on its remote; nothing pruned", newID)
}

func items(backups []catalog.Backup) []retention.Item {
	out := make([]retention.Item, len(backups))
	for i, b := range backups {
		out[i] = retention.Item{ID: b.ID.String(), Time: b.Timestamp}
	}
	return out
}

func (p *Pruner) backupsOutcome(trigger string, e events.ExportCompleted, rem string, depth int64, kept []string, deleted []events.PrunedItem, err error) (bus.Out, error) {
	if err != nil {
		p.o.Log.Warn("prune failed; the next completed backup prunes again", "remote", rem, "job", e.Job, "vm_uuid", e.VMUUID, "err", err)
		return p.message(events.DeriveID("prune.failed", trigger, rem), events.PruneFailed{
			RunID: e.RunID, Job: e.Job, Schedule: e.Schedule, VMUUID: e.VMUUID, Kind: events.PruneBackups,
			Remote: rem, Error: events.Reason(err), Deleted: deleted})
	}
	return p.message(events.DeriveID("prune.completed", trigger, rem), events.PruneCompleted{
		RunID: e.RunID, Job: e.Job, Schedule: e.Schedule, VMUUID: e.VMUUID, Kind: events.PruneBackups,
		Remote: rem, Retention: depth, Kept: kept, Deleted: deleted})
}
