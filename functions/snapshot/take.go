package snapshot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/runs"
	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

// errGone: the request was done, but its snapshot no longer exists (pruned
// since); a late redelivery has nothing left to report.
var errGone = errors.New("snapshot of a finished request is gone")

// taken is a snapshot of a request, stamped and renamed.
type taken struct {
	uuid, name string
	at         time.Time
	duration   time.Duration
}

// take snapshots one VM of a run, records its result and returns
// snapshot.completed (or failed), the requests its end released and, when it
// was the last VM, run.completed.
func (s *Snapshotter) take(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	p, err := events.PayloadAs[events.SnapshotRequested](ev.Received)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	d := ev.Delivery
	r, err := s.runs.GetVM(ctx, p.RunID, p.VMUUID)
	if errors.Is(err, runs.ErrNotFound) {
		return nil, bus.Permanent(err)
	}
	if err != nil {
		return nil, err
	}
	v, ok := r.VM(p.VMUUID)
	if !ok {
		return nil, bus.Permanent(fmt.Errorf("run %s has no VM %s", p.RunID, p.VMUUID))
	}
	if r.Done() && v.State != runs.VMDone {
		s.log.Info("snapshot request of an ended run ignored", bus.KeyFunction, Name, "run", r.ID, "vm_uuid", p.VMUUID, "status", r.Status)
		return nil, nil
	}
	if v.State == runs.VMDone && v.Result != nil && v.Result.Status != events.StatusSuccess {
		return s.finish(ctx, p, taken{}, errors.New(v.Result.Error)) // redelivered: the same events
	}
	c, err := s.pools.Client(ctx, p.Pool)
	if err != nil {
		return s.failOrRetry(ctx, d, p, v, err)
	}
	snap, err := s.snapshotOnce(ctx, c, p, v)
	if errors.Is(err, errGone) {
		s.log.Info("snapshot request already done; its snapshot is gone since", bus.KeyFunction, Name, "run", r.ID, "vm_uuid", p.VMUUID)
		return nil, nil
	}
	if err != nil {
		return s.failOrRetry(ctx, d, p, v, err)
	}
	return s.finish(ctx, p, snap, nil)
}

// snapshotOnce returns the snapshot of an earlier attempt of this request if
// there is one (completing its stamping), else takes a new one.
func (s *Snapshotter) snapshotOnce(ctx context.Context, c *xapi.Client, p events.SnapshotRequested, v runs.VM) (taken, error) {
	vm, err := c.VMByUUID(ctx, p.VMUUID)
	if err != nil {
		return taken{}, fmt.Errorf("find VM %s: %w", p.VMUUID, err)
	}
	rec, err := c.VMRecord(ctx, vm)
	if err != nil {
		return taken{}, fmt.Errorf("read VM %s: %w", p.VMUUID, err)
	}
	prev := s.earlier(ctx, c, rec, p, v.Attempts)
	if prev.found {
		return s.stamp(ctx, c, prev.ref, p, rec.NameLabel, prev.at, 0)
	}
	if v.State == runs.VMDone {
		return taken{}, errGone
	}
	at := s.now().UTC().Truncate(time.Second)
	if !at.After(prev.latest) { // two runs in one second: keep the datetimes distinct
		at = prev.latest.Add(time.Second)
	}
	if _, err := s.runs.RecordAttempt(ctx, p.RunID, p.VMUUID, catalog.FormatTimestamp(at)); err != nil {
		return taken{}, err
	}
	if err := resetSource(ctx, c, vm, rec); err != nil {
		return taken{}, err
	}
	start := s.now()
	ref, err := c.Snapshot(ctx, vm, xotag.TempSnapshotName, nil)
	if err != nil {
		return taken{}, err
	}
	t, err := s.stamp(ctx, c, ref, p, rec.NameLabel, at, s.now().Sub(start))
	if err != nil {
		// Without its keys the snapshot would only be found by the sweep.
		if derr := c.DestroyVM(ctx, ref); derr != nil {
			err = errors.Join(err, fmt.Errorf("remove the unfinished snapshot: %w", derr))
		}
	}
	return t, err
}

// previous is what earlier found among the VM's snapshots of the request's
// job, schedule and VM.
type previous struct {
	found  bool // a snapshot of one of the request's attempts
	ref    xapi.VMRef
	at     time.Time
	latest time.Time // the newest datetime of the scope's snapshots
}

// earlier finds a snapshot of vm stamped by an earlier attempt of the
// request, and the newest datetime of the scope's snapshots.
func (s *Snapshotter) earlier(ctx context.Context, c *xapi.Client, vm xapi.VM, p events.SnapshotRequested, attempts []string) previous {
	var out previous
	for _, ref := range vm.Snapshots {
		snap, err := c.VMRecord(ctx, ref)
		if err != nil {
			continue
		}
		oc := snap.OtherConfig
		jobID, schedID := s.ids(p.Job, p.Schedule)
		// The ids, or the names an older xbr stamped.
		if (oc[xotag.KeyJob] != jobID && oc[xotag.KeyJob] != p.Job) ||
			(oc[xotag.KeySchedule] != schedID && oc[xotag.KeySchedule] != p.Schedule) || oc[xotag.KeyVM] != p.VMUUID {
			continue
		}
		if t, err := xotag.ParseDatetime(oc[xotag.KeyDatetime]); err == nil && t.After(out.latest) {
			out.latest = t
		}
		for _, ts := range attempts {
			at, err := catalog.ParseTimestamp(ts)
			if err == nil && oc[xotag.KeyDatetime] == xotag.FormatDatetime(at) {
				out.found, out.ref, out.at = true, ref, at
			}
		}
	}
	return out
}

// ids are Xen Orchestra's ids of a job and schedule named in an event: the
// UUIDs of the configuration (config.Job.ID, config.Schedule.ID).
func (s *Snapshotter) ids(job, sched string) (jobID, schedID string) {
	j, ok := s.cfg.Job(job)
	if !ok {
		return job, sched
	}
	sc, _ := j.Schedule(sched)
	return j.ID, sc.ID
}

// resetSource removes XO's backup keys from the source VM, so its snapshot
// does not inherit them (XO's resetVmOtherConfig). A replication's copy
// keeps them: they are how xbr dr, failover and copy_retention find it.
func resetSource(ctx context.Context, c *xapi.Client, vm xapi.VMRef, rec xapi.VM) error {
	if xotag.ReplicaCopy(rec.UUID, rec.OtherConfig, rec.BlockedOperations) {
		return nil
	}
	for _, k := range xotag.KeyNames() {
		if _, ok := rec.OtherConfig[k]; !ok {
			continue
		}
		if err := c.RemoveFromOtherConfig(ctx, vm, k); err != nil {
			return fmt.Errorf("reset %s on VM %s: %w", k, rec.UUID, err)
		}
	}
	return nil
}

// stamp writes the keys on the snapshot and its disks, renames it and clears
// is_a_template. Every step is idempotent, so a retry completes it.
func (s *Snapshotter) stamp(ctx context.Context, c *xapi.Client, ref xapi.VMRef, p events.SnapshotRequested, vmName string, at time.Time, took time.Duration) (taken, error) {
	jobID, schedID := s.ids(p.Job, p.Schedule)
	keys := xotag.Keys(jobID, schedID, p.VMUUID, p.RunID, at)
	disks, err := c.VMDisks(ctx, ref)
	if err != nil {
		return taken{}, fmt.Errorf("read snapshot disks: %w", err)
	}
	objs := []xapi.Object{ref}
	for _, d := range disks {
		objs = append(objs, d)
	}
	for _, obj := range objs {
		for _, kv := range keys {
			if err := c.AddToOtherConfig(ctx, obj, kv.Key, kv.Value); err != nil {
				return taken{}, fmt.Errorf("stamp %s on %s: %w", kv.Key, obj.Ref(), err)
			}
		}
	}
	name := xotag.NameLabel(p.Job, vmName)
	if err := c.SetNameLabel(ctx, ref, name); err != nil {
		return taken{}, fmt.Errorf("rename snapshot: %w", err)
	}
	if err := c.SetIsATemplate(ctx, ref, false); err != nil {
		return taken{}, fmt.Errorf("clear is_a_template: %w", err)
	}
	rec, err := c.VMRecord(ctx, ref)
	if err != nil {
		return taken{}, fmt.Errorf("read snapshot: %w", err)
	}
	return taken{uuid: rec.UUID, name: name, at: at, duration: took}, nil
}
