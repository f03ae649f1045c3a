package prune

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/retention"
	"xbr/shared/xapi"
)

// Snapshots keeps the schedule's snapshot_retention newest rolling snapshots
// of a completed snapshot's VM, job and schedule and destroys the others
// with their disks. trigger (the snapshot event's id) derives the id of the
// prune.completed or prune.failed it returns.
func (p *Pruner) Snapshots(ctx context.Context, trigger string, e events.SnapshotCompleted) ([]bus.Out, error) {
	job, sched, err := p.jobSchedule(e.Job, e.Schedule)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	depth := sched.SnapshotRetention
	kept, deleted, err := p.pruneSnapshots(ctx, e, job.ID, sched.ID, depth)
	if err != nil && ctx.Err() != nil {
		return nil, err
	}
	var out bus.Out
	if err != nil {
		p.o.Log.Warn("snapshot prune failed; the next snapshot prunes again", "job", e.Job, "vm_uuid", e.VMUUID, "err", err)
		out, err = p.message(events.DeriveID("prune.failed", trigger), events.PruneFailed{
			RunID: e.RunID, Job: e.Job, Schedule: e.Schedule, VMUUID: e.VMUUID, Kind: events.PruneSnapshots,
			Error: events.Reason(err), Deleted: deleted})
	} else {
		out, err = p.message(events.DeriveID("prune.completed", trigger), events.PruneCompleted{
			RunID: e.RunID, Job: e.Job, Schedule: e.Schedule, VMUUID: e.VMUUID, Kind: events.PruneSnapshots,
			Retention: int64(depth), Kept: kept, Deleted: deleted})
	}
	if err != nil {
		return nil, err
	}
	return []bus.Out{out}, nil
}

// pruneSnapshots decides over the snapshots stamped with the job's and
// schedule's ids, or with their names (stamped by an older xbr).
func (p *Pruner) pruneSnapshots(ctx context.Context, e events.SnapshotCompleted, jobID, schedID string, depth int) ([]string, []events.PrunedItem, error) {
	c, err := p.pools.Client(ctx, e.Pool)
	if err != nil {
		return nil, nil, err
	}
	vm, err := c.VMByUUID(ctx, e.VMUUID)
	if err != nil {
		return nil, nil, fmt.Errorf("find VM %s: %w", e.VMUUID, err)
	}
	all, err := FindRolling(ctx, c, vm, jobID, e.Job)
	if err != nil {
		return nil, nil, err
	}
	var mine []Rolling
	for _, r := range all {
		if r.Schedule == schedID || r.Schedule == e.Schedule {
			mine = append(mine, r)
		}
	}
	if err := hasSnapshot(mine, e.SnapshotUUID); err != nil {
		return nil, nil, err
	}
	d, err := retention.Decide(rollingItems(mine), retention.Policy{Depth: depth})
	if err != nil {
		return nil, nil, err
	}
	byID := map[string]Rolling{}
	for _, r := range mine {
		byID[r.ID()] = r
	}
	var kept []string
	for _, it := range d.Keep {
		kept = append(kept, byID[it.ID].UUIDs...)
	}
	// Oldest first; one that cannot be destroyed (its destroy blocked, a
	// disk in use) does not stop the others, or every later prune would
	// stop at it and the rolling snapshots would pile up on the SR.
	var deleted []events.PrunedItem
	var errs []error
	for _, it := range slices.Backward(d.Remove) {
		r := byID[it.ID]
		if err := destroy(ctx, c, r); err != nil {
			errs = append(errs, fmt.Errorf("rolling snapshot %s of %s: %w", strings.Join(r.UUIDs, ", "), r.Datetime, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		for _, u := range r.UUIDs {
			deleted = append(deleted, events.PrunedItem{ID: u, Timestamp: catalog.FormatTimestamp(r.Time),
				Reason: reason(d.Reasons[it.ID])})
		}
	}
	return kept, deleted, errors.Join(errs...)
}

// hasSnapshot checks that the snapshot just taken is among the schedule's
// rolling snapshots: otherwise its stamping is not what this prune expects
// and nothing may be deleted on its account.
func hasSnapshot(rs []Rolling, uuid string) error {
	for _, r := range rs {
		if slices.Contains(r.UUIDs, uuid) {
			return nil
		}
	}
	return fmt.Errorf("snapshot %s is not among the schedule's rolling snapshots; nothing pruned", uuid)
}

func rollingItems(rs []Rolling) []retention.Item {
	out := make([]retention.Item, len(rs))
	for i, r := range rs {
		out[i] = retention.Item{ID: r.ID(), Time: r.Time}
	}
	return out
}

// destroy removes a rolling snapshot: its VMs with their disks, and the
// disks no VM owns.
func destroy(ctx context.Context, c *xapi.Client, r Rolling) error {
	for _, vm := range r.VMs {
		if err := c.DestroyVM(ctx, vm); err != nil && !xapi.IsCode(err, xapi.CodeHandleInvalid) {
			return fmt.Errorf("destroy snapshot %s: %w", vm, err)
		}
	}
	for _, vdi := range r.VDIs {
		if _, err := c.CallAsync(ctx, "VDI.destroy", vdi); err != nil && !xapi.IsCode(err, xapi.CodeHandleInvalid) {
			return fmt.Errorf("destroy snapshot disk %s: %w", vdi, err)
		}
	}
	return nil
}
