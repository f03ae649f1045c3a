package incremental

import (
	"context"
	"slices"

	"xbr/shared/xapi"
	"xbr/shared/xva"
)

// retire runs after the commit: the snapshot VM record goes (VM.destroy,
// not its disks); each snapshot disk with CBT keeps only its CBT metadata
// (VDI.data_destroy), the next run's base; one without CBT is destroyed
// (no base: the next run reads it whole). Then the job's older bases of
// this VM go. Failures are logged: the point is committed, and the next run
// finds what is left (a leftover base is removed then; a missing one makes
// that disk a full scan).
func (w *Worker) retire(ctx context.Context, c *xapi.Client, snap xapi.VMRef, plans []diskPlan, prev *previous, j *job) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if _, err := c.CallAsync(cctx, "VM.destroy", snap); err != nil && !xapi.IsCode(err, xapi.CodeHandleInvalid) {
		w.d.Log.Error("snapshot VM record not destroyed; the next run removes it with its disks", "vm_uuid", j.req.VMUUID, "error", err)
		return
	}
	var keep []string
	for _, p := range plans {
		if p.cbt {
			if err := c.DataDestroy(cctx, p.vdi); err == nil {
				keep = append(keep, p.rec.SnapshotVDI)
				continue
			} else {
				w.d.Log.Warn("VDI.data_destroy failed; the snapshot disk is destroyed and the next run reads it whole",
					"vm_uuid", j.req.VMUUID, "vdi", p.rec.SnapshotVDI, "error", err)
			}
		}
		w.destroyVDI(cctx, c, p.vdi, j)
	}
	w.dropBases(cctx, c, plans, prev, keep, j)
}

// dropBases destroys this job's changed-block bases of the VM other than
// keep: those the previous point named, and any other VDI that a source
// disk lists among its snapshots and that carries the job's and VM's keys
// without being attached (what a crash between a commit and this cleanup
// left). It reads the VM's disks' own snapshots, never the pool's VDIs.
func (w *Worker) dropBases(ctx context.Context, c *xapi.Client, plans []diskPlan, prev *previous, keep []string, j *job) {
	var candidates []xapi.VDIRef
	if prev != nil {
		for _, d := range prev.records.Disks {
			if ref, err := c.VDIByUUID(ctx, d.SnapshotVDI); err == nil {
				candidates = append(candidates, ref)
			}
		}
	}
	for _, p := range plans {
		src, err := c.VDIByUUID(ctx, p.rec.SourceVDI)
		if err != nil {
			continue
		}
		if rec, err := c.VDIRecord(ctx, src); err == nil {
			candidates = append(candidates, rec.Snapshots...)
		}
	}
	seen := map[xapi.VDIRef]bool{}
	for _, ref := range candidates {
		if seen[ref] {
			continue
		}
		seen[ref] = true
		rec, err := c.VDIRecord(ctx, ref)
		if err != nil || slices.Contains(keep, rec.UUID) || len(rec.VBDs) > 0 {
			continue
		}
		if rec.OtherConfig[KeyIncJob] != j.cfg.ID || rec.OtherConfig[KeyIncVM] != j.req.VMUUID {
			continue
		}
		w.destroyVDI(ctx, c, ref, j)
	}
}

func (w *Worker) destroyVDI(ctx context.Context, c *xapi.Client, vdi xapi.VDIRef, j *job) {
	if _, err := c.CallAsync(ctx, "VDI.destroy", vdi); err != nil && !xapi.IsCode(err, xapi.CodeHandleInvalid) {
		w.d.Log.Warn("VDI not destroyed; the next run retries", "vm_uuid", j.req.VMUUID, "vdi", vdi, "error", err)
	}
}

// retireCommitted retires a leftover snapshot whose disks the newest point
// names as its bases (the cleanup after that commit never ran) and reports
// whether it did.
func (w *Worker) retireCommitted(ctx context.Context, c *xapi.Client, snap xapi.VMRef, prev *previous, j *job) bool {
	if prev == nil {
		return false
	}
	disks, err := c.VMDisks(ctx, snap)
	if err != nil || len(disks) == 0 {
		return false
	}
	plans := make([]diskPlan, 0, len(disks))
	for _, d := range disks {
		rec, err := c.VDIRecord(ctx, d)
		k := -1
		if err == nil {
			k = slices.IndexFunc(prev.records.Disks, func(b xva.RepoDisk) bool { return b.SnapshotVDI == rec.UUID })
		}
		if k < 0 {
			return false
		}
		// The point's disk record names the source VDI too, so that dropBases finds the older bases.
		plans = append(plans, diskPlan{pointDisk: pointDisk{vdi: d, rec: prev.records.Disks[k]}, cbt: rec.CBTEnabled})
	}
	w.d.Log.Warn("finishing the cleanup of a committed point's snapshot", "vm_uuid", j.req.VMUUID, "point", prev.point.String())
	w.retire(ctx, c, snap, plans, nil, j)
	return true
}
