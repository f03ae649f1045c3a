package incremental

import (
	"context"
	"fmt"
	"time"

	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

// xbr's keys on an incremental snapshot and its disks. On the disks they
// stay after data_destroy, so the changed-block bases of a job's VM are
// found (and removed) by them; Xen Orchestra finds its own by other_config
// too, since a cbt_metadata VDI belongs to no VM.
const (
	KeyIncJob = "xbr:incremental:job" // the job's id (config.Job.ID)
	KeyIncVM  = "xbr:incremental:vm"  // the source VM's uuid
)

// cleanupTimeout bounds cleanup after an attempt, on a context of its own so
// that a cancelled or timed-out attempt still cleans.
const cleanupTimeout = 5 * time.Minute

// snapshot takes the VM's snapshot and labels it as export does, plus the
// incremental keys. It returns the snapshot ref even on a later error, so
// the caller removes it.
func (w *Worker) snapshot(ctx context.Context, c *xapi.Client, vm xapi.VMRef, j *job, ts time.Time) (xapi.VMRef, error) {
	rec, err := c.VMRecord(ctx, vm)
	if err != nil {
		return "", fmt.Errorf("read vm %s: %w", j.req.VMUUID, err)
	}
	snap, err := c.Snapshot(ctx, vm, xotag.TempSnapshotName, nil)
	if err != nil {
		return "", fmt.Errorf("snapshot vm %s: %w", j.req.VMUUID, err)
	}
	s, _ := j.cfg.Schedule(j.req.Schedule)
	keys := append(xotag.Keys(j.cfg.ID, s.ID, j.req.VMUUID, j.req.RunID, ts),
		xotag.KV{Key: KeyIncJob, Value: j.cfg.ID}, xotag.KV{Key: KeyIncVM, Value: j.req.VMUUID})
	objs := []xapi.Object{snap}
	vdis, err := c.VMDisks(ctx, snap)
	if err != nil {
		return snap, fmt.Errorf("read snapshot disks: %w", err)
	}
	for _, v := range vdis {
		objs = append(objs, v)
	}
	for _, o := range objs {
		for _, kv := range keys {
			if err := c.AddToOtherConfig(ctx, o, kv.Key, kv.Value); err != nil {
				return snap, fmt.Errorf("tag snapshot: %w", err)
			}
		}
	}
	if err := c.SetNameLabel(ctx, snap, xotag.NameLabel(j.req.Job, rec.NameLabel)); err != nil {
		return snap, fmt.Errorf("name snapshot: %w", err)
	}
	if err := c.SetIsATemplate(ctx, snap, false); err != nil {
		return snap, fmt.Errorf("snapshot is_a_template: %w", err)
	}
	return snap, nil
}

// enableCBT turns changed-block tracking on for every disk of the VM
// (cbt: enable). A disk where it fails is logged and read whole by this
// run (its snapshot has no CBT: path_reason cbt-disabled).
func (w *Worker) enableCBT(ctx context.Context, c *xapi.Client, vm xapi.VMRef, j *job) {
	vdis, err := c.VMDisks(ctx, vm)
	if err != nil {
		w.d.Log.Warn("cannot list the VM's disks to enable CBT; its disks are read whole", "vm_uuid", j.req.VMUUID, "error", err)
		return
	}
	for _, v := range vdis {
		if err := c.EnableCBT(ctx, v); err != nil {
			w.d.Log.Warn("VDI.enable_cbt failed; this disk is read whole", "vm_uuid", j.req.VMUUID, "vdi", v, "error", err)
		}
	}
}

// destroySnapshot removes a snapshot that was not committed, with its
// disks: the previous changed-block base stays.
func (w *Worker) destroySnapshot(ctx context.Context, c *xapi.Client, snap xapi.VMRef, j *job) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := c.DestroyVM(cctx, snap); err != nil && !xapi.IsCode(err, xapi.CodeHandleInvalid) {
		w.d.Log.Error("snapshot not destroyed; the next attempt removes it", "run", j.req.RunID,
			"vm_uuid", j.req.VMUUID, "snapshot", snap, "error", err)
	}
}

// sweepSnapshots destroys, with their disks, the snapshots of the VM that
// carry this job's incremental key: a run of the job holds its lock and
// attempts are sequential, so any such snapshot is what an interrupted
// attempt left. One whose disks the newest point names (a process that
// stopped between a commit and its cleanup) is retired instead, so its
// disks stay the next base. Stale ones still under the temporary name go
// too. It reads the VM's own snapshots, never the pool's.
func (w *Worker) sweepSnapshots(ctx context.Context, c *xapi.Client, vm xapi.VMRef, prev *previous, j *job) error {
	snaps, err := c.VMSnapshots(ctx, vm)
	if err != nil {
		return fmt.Errorf("list snapshots: %w", err)
	}
	for _, ref := range snaps {
		snap, err := c.VMRecord(ctx, ref)
		if xapi.IsCode(err, xapi.CodeHandleInvalid) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read snapshot %s: %w", ref, err)
		}
		ours := snap.OtherConfig[KeyIncJob] == j.cfg.ID && snap.OtherConfig[KeyIncVM] == j.req.VMUUID
		temp := snap.NameLabel == xotag.TempSnapshotName && !snap.SnapshotTime.IsZero() &&
			w.d.Now().Sub(snap.SnapshotTime) > time.Minute
		if !snap.IsASnapshot || (!ours && !temp) {
			continue
		}
		if ours && w.retireCommitted(ctx, c, ref, prev, j) {
			continue
		}
		w.d.Log.Warn("removing a snapshot left by an interrupted attempt", "vm_uuid", j.req.VMUUID, "snapshot", snap.UUID)
		if err := c.DestroyVM(ctx, ref); err != nil && !xapi.IsCode(err, xapi.CodeHandleInvalid) {
			return fmt.Errorf("destroy leftover snapshot %s: %w", snap.UUID, err)
		}
	}
	return nil
}
