package export

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"xbr/shared/xapi"
	"xbr/shared/xapi/xmlrpc"
	"xbr/shared/xotag"
)

// snapshot takes the VM's snapshot and labels it as Xen Orchestra does. It
// returns the snapshot ref even on a later error, so the caller removes it.
func (w *Worker) snapshot(ctx context.Context, c *xapi.Client, vm xapi.VMRef, j *job, ts time.Time) (xapi.VMRef, error) {
	rec, err := c.VMRecord(ctx, vm)
	if err != nil {
		return "", fmt.Errorf("read vm %s: %w", j.req.VMUUID, err)
	}
	snap, err := c.Snapshot(ctx, vm, xotag.TempSnapshotName, nil)
	if err != nil {
		return "", fmt.Errorf("snapshot vm %s: %w", j.req.VMUUID, err)
	}
	keys := xotag.Keys(j.jobID(), j.scheduleID(), j.req.VMUUID, j.req.RunID, ts)
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

// diskSizes reads the snapshot's disks: hint, the sum of their virtual
// sizes (an upper bound of the XVA before compression, the remotes' size
// hint), and total, the sum of their allocated bytes where XAPI knows them
// (what the XVA carries of a sparse disk: XAPI leaves all-zero blocks out),
// the progress events' total, with the XVA's framing (xvaFraming). 0 when unknown.
func diskSizes(ctx context.Context, c *xapi.Client, snap xapi.VMRef) (hint, total int64) {
	vdis, err := c.VMDisks(ctx, snap)
	if err != nil {
		return 0, 0
	}
	for _, v := range vdis {
		rec, err := c.VDIRecord(ctx, v)
		if err != nil {
			continue
		}
		hint += rec.VirtualSize
		if rec.PhysicalUtilisation > 0 && rec.PhysicalUtilisation < rec.VirtualSize {
			total += rec.PhysicalUtilisation
		} else {
			total += rec.VirtualSize
		}
	}
	return hint, xvaFraming(total)
}

// xvaFraming is about how large an XVA carrying data bytes of disk blocks
// is: each 1 MiB block is a tar member and a checksum member (1.5 KiB of
// headers and sums), and ova.xml leads. An estimate a little high keeps a
// progress bar from outrunning its total at the end.
func xvaFraming(data int64) int64 {
	if data <= 0 {
		return 0
	}
	return data + data/512 + 1<<20
}

// destroy removes the snapshot and its disks on a context of its own, so a
// cancelled attempt still cleans up.
func (w *Worker) destroy(ctx context.Context, c *xapi.Client, snap xapi.VMRef, j *job) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := c.DestroyVM(cctx, snap); err != nil && !xapi.IsCode(err, xapi.CodeHandleInvalid) {
		w.d.Log.Error("snapshot not destroyed; the next attempt or run removes it", "run", j.req.RunID,
			"vm_uuid", j.req.VMUUID, "snapshot", snap, "error", err)
	}
}

// rawRecord is the VM's XAPI record as JSON, as Xen Orchestra stores it in
// the metadata (datetimes in XAPI's form).
func rawRecord(ctx context.Context, c *xapi.Client, vm xapi.VMRef) (json.RawMessage, error) {
	v, err := c.Call(ctx, "VM.get_record", vm)
	if err != nil {
		return nil, fmt.Errorf("read vm record: %w", err)
	}
	b, err := json.Marshal(plain(v))
	if err != nil {
		return nil, fmt.Errorf("encode vm record: %w", err)
	}
	return b, nil
}

// plain turns a decoded XAPI value into JSON-friendly values.
func plain(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(xmlrpc.DateLayout)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	}
	return v
}
