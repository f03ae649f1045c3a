package incremental

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"xbr/events"
	"xbr/shared/repo"
	"xbr/shared/xapi"
	"xbr/shared/xva"
)

// previous is the newest restore point of the VM in the repository and
// what its records say of its disks; nil when there is none.
type previous struct {
	point   repo.Point
	records xva.RepoRecords
	sizes   []int64 // the manifest's disk sizes, in records order
	// unreadable: the point's manifest or records are damaged; it names no
	// base, and its disks are read whole with path_reason cbt-error (not
	// first-run: the VM has a point).
	unreadable bool
}

// lastPoint reads the VM's newest restore point. A point whose manifest is
// damaged or whose records cannot be read is no base: the run scans
// (logged), so that a newer point can be written; failing on it would fail
// every later run too, since retention never removes the newest point. A
// manifest that cannot be fetched (a network error) fails the attempt.
func (w *Worker) lastPoint(ctx context.Context, rp *repo.Repo, j *job) (*previous, error) {
	points, err := rp.List(ctx, j.req.VMUUID)
	if err != nil {
		return nil, err
	}
	if len(points) == 0 {
		return nil, nil
	}
	p := points[len(points)-1].Point
	m, err := rp.Manifest(ctx, p)
	if err != nil && !errors.Is(err, repo.ErrCorrupt) {
		return nil, fmt.Errorf("read restore point %s: %w", p, err)
	}
	var recs xva.RepoRecords
	if err == nil {
		recs, err = xva.DecodeRepoRecords(m.Records)
	}
	if err != nil || len(recs.Disks) != len(m.Disks) {
		w.d.Log.Warn("the previous restore point names no changed-block base; disks are read whole",
			"vm_uuid", j.req.VMUUID, "point", p.String(), "error", err)
		return &previous{point: p, unreadable: true}, nil
	}
	prev := &previous{point: p, records: recs}
	for _, d := range m.Disks {
		prev.sizes = append(prev.sizes, d.Size)
	}
	return prev, nil
}

// diskPlan is how one disk is read.
type diskPlan struct {
	pointDisk
	path, reason string
	base         *repo.BaseDisk
	changed      xapi.Bitmap
	nbd          []xapi.NBDInfo
	cbt          bool // the snapshot VDI has CBT: it becomes the next base
	// patched and unreadable: the changed chunks built over their base, and
	// the base chunks that could not be read back (changedReader)
	patched, unreadable int64
}

// plan chooses the path of disk d: cbt when every condition holds, else
// full-scan with the first reason that failed.
func (w *Worker) plan(ctx context.Context, c *xapi.Client, d pointDisk, prev *previous, j *job) diskPlan {
	p := diskPlan{pointDisk: d, path: events.PathFullScan}
	snap, err := c.VDIRecord(ctx, d.vdi)
	if err != nil {
		p.reason = w.why(j, d, events.PathReasonCBTError, err)
		return p
	}
	p.cbt = snap.CBTEnabled
	i := baseIndex(prev, d.rec)
	switch {
	case i < 0:
		p.reason = newDiskReason(prev, d.rec)
		return p
	case !snap.CBTEnabled:
		p.reason = events.PathReasonCBTDisabled
		return p
	case prev.sizes[i] != d.size:
		p.reason = events.PathReasonDiskResized
		return p
	}
	baseRef, reason, err := baseVDI(ctx, c, prev.records.Disks[i].SnapshotVDI)
	if reason != "" {
		p.reason = w.why(j, d, reason, err)
		return p
	}
	bm, err := c.ListChangedBlocks(ctx, baseRef, d.vdi)
	switch {
	case xapi.IsCode(err, xapi.CodeCBTUnrelated) || xapi.IsCode(err, xapi.CodeNoCBTMetadata):
		p.reason = w.why(j, d, events.PathReasonCBTReset, err)
		return p
	case err != nil:
		p.reason = w.why(j, d, events.PathReasonCBTError, err)
		return p
	case !bm.Covers(d.size):
		p.reason = w.why(j, d, events.PathReasonCBTError, fmt.Errorf("bitmap of %d blocks does not cover %d bytes", bm.Len(), d.size))
		return p
	}
	infos, err := c.NBDInfo(ctx, d.vdi)
	var plain bool
	if err == nil && len(infos) > 0 {
		plain, err = j.plainNBD(ctx, c)
	}
	if err != nil || len(infos) == 0 {
		p.reason = w.why(j, d, events.PathReasonNoNBD, err)
		return p
	}
	for k := range infos {
		infos[k].Plain = plain
	}
	p.path, p.changed, p.nbd = events.PathCBT, bm.Clip(d.size), infos
	p.base = &repo.BaseDisk{Point: prev.point, Disk: i}
	return p
}

// baseIndex is the index of the previous point's disk read from the same
// live VDI at the same userdevice; -1 when there is none.
func baseIndex(prev *previous, d xva.RepoDisk) int {
	if prev == nil {
		return -1
	}
	for i, b := range prev.records.Disks {
		if b.SourceVDI == d.SourceVDI && b.Userdevice == d.Userdevice {
			return i
		}
	}
	return -1
}

// newDiskReason is why a disk with no base in prev is read whole:
// first-run, unless prev read another live VDI at the same userdevice — a
// storage migration moves a disk to a new VDI, whose chain starts afresh —
// which is cbt-reset.
func newDiskReason(prev *previous, d xva.RepoDisk) string {
	if prev != nil && prev.unreadable {
		return events.PathReasonCBTError
	}
	if prev != nil && slices.ContainsFunc(prev.records.Disks, func(b xva.RepoDisk) bool { return b.Userdevice == d.Userdevice }) {
		return events.PathReasonCBTReset
	}
	return events.PathReasonFirstRun
}

// baseVDI finds the base snapshot VDI; a reason when it cannot serve.
func baseVDI(ctx context.Context, c *xapi.Client, uuid string) (xapi.VDIRef, string, error) {
	ref, err := c.VDIByUUID(ctx, uuid)
	if xapi.IsCode(err, "UUID_INVALID") || xapi.IsCode(err, xapi.CodeHandleInvalid) {
		return "", events.PathReasonBaseGone, err
	}
	if err != nil {
		return "", events.PathReasonCBTError, err
	}
	rec, err := c.VDIRecord(ctx, ref)
	if err != nil {
		return "", events.PathReasonCBTError, err
	}
	if rec.Type != "cbt_metadata" && !(rec.IsASnapshot && rec.CBTEnabled) {
		return "", events.PathReasonBaseGone, errors.New("the base VDI is neither cbt_metadata nor a tracked snapshot")
	}
	return ref, "", nil
}

// why logs why disk d is read whole and returns reason.
func (w *Worker) why(j *job, d pointDisk, reason string, err error) string {
	w.d.Log.Info("disk read whole", "vm_uuid", j.req.VMUUID, "disk", d.rec.Name, "userdevice", d.rec.Userdevice,
		"path_reason", reason, "error", err)
	return reason
}
