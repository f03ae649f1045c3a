package export

import (
	"context"
	"errors"
	"fmt"
	"time"

	"xbr/events"
	"xbr/shared/catalog"
	"xbr/shared/remote"
	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

// tempSnapshotAge: a snapshot of the VM still carrying the temporary name
// and older than this was left by a crash between VM.snapshot and its
// labelling; it is removed as Xen Orchestra removes it.
const tempSnapshotAge = time.Minute

// committed looks for a backup of this run and VM committed on every remote
// (a redelivery after the work was done) and returns its completed event.
// A backup of the run committed on some remotes only is deleted.
func (w *Worker) committed(ctx context.Context, j *job, rems []remote.Remote) (events.ExportCompleted, bool, error) {
	for _, ts := range w.attemptTimes(j) {
		var metas []catalog.Metadata
		for _, r := range rems {
			m, ok, err := ownBackup(ctx, r, j, ts)
			if err != nil {
				return events.ExportCompleted{}, false, err
			}
			if ok {
				metas = append(metas, m)
			}
		}
		switch {
		case len(metas) == len(rems):
			m := metas[0]
			st := streamed{read: m.Xbr.RawSize, stored: m.Size, sha256: m.Xbr.SHA256}
			w.d.Log.Info("backup of this run already committed; reporting it again", "run", j.req.RunID, "vm_uuid", j.req.VMUUID)
			w.refreshCaches(ctx, rems, j.req.VMUUID) // the attempt may have died before it did
			w.release(ctx, rems, j, ts)              // and before it released its claim
			return w.completed(j, ts, st, time.Duration(m.Xbr.DurationMS)*time.Millisecond, rems), true, nil
		case len(metas) > 0:
			w.d.Log.Warn("backup of this run committed on some remotes only; removing it", "run", j.req.RunID, "vm_uuid", j.req.VMUUID)
			w.unwind(ctx, rems, ts, j)
		}
	}
	return events.ExportCompleted{}, false, nil
}

// ownBackup reads the .json stamped ts and reports whether this run wrote it.
func ownBackup(ctx context.Context, r remote.Remote, j *job, ts time.Time) (catalog.Metadata, bool, error) {
	id, err := catalog.NewID(r.Name(), j.req.VMUUID, ts)
	if err != nil {
		return catalog.Metadata{}, false, err
	}
	m, err := catalog.ReadMetadata(ctx, r, id)
	switch {
	case errors.Is(err, remote.ErrNotFound):
		return catalog.Metadata{}, false, nil
	case errors.Is(err, catalog.ErrInvalidMetadata):
		return catalog.Metadata{}, false, nil // not ours to judge; a new attempt gets a new time
	case err != nil:
		return catalog.Metadata{}, false, fmt.Errorf("remote %s: read %s: %w", r.Name(), id.MetaKey(), err)
	}
	return m, m.Xbr != nil && m.Xbr.RunID == j.req.RunID, nil
}

// attemptTimes are the backup times of earlier attempts on this VM, newest
// first.
func (w *Worker) attemptTimes(j *job) []time.Time {
	if j.run == nil {
		return nil
	}
	v, _ := j.run.VM(j.req.VMUUID)
	var out []time.Time
	for i := len(v.Attempts) - 1; i >= 0; i-- {
		if t, err := catalog.ParseTimestamp(v.Attempts[i]); err == nil {
			out = append(out, t)
		}
	}
	return out
}

// sweep removes what earlier attempts of this run left on the remotes: data
// files without their .json, temp files, pending uploads and the claims of
// their backup times (catalog.Claim; a time recorded in the run was claimed
// by this run first, and once its claim is swept as old no writer stamps a
// time that old, so the claim is this run's). Snapshots are
// swept by sweepSnapshots once the VM is found.
func (w *Worker) sweep(ctx context.Context, j *job, rems []remote.Remote) error {
	var errs []error
	for _, ts := range w.attemptTimes(j) {
		for _, r := range rems {
			errs = append(errs, sweepRemote(ctx, r, j.req.VMUUID, ts, j.req.RunID))
		}
	}
	return errors.Join(errs...)
}

func sweepRemote(ctx context.Context, r remote.Remote, vmUUID string, ts time.Time, runID string) error {
	id, err := catalog.NewID(r.Name(), vmUUID, ts)
	if err != nil {
		return err
	}
	// An attempt releases its claim when it fails; another writer may have
	// claimed that second since and be writing it: its files and claim are
	// not this run's leftovers.
	switch owner, err := catalog.ClaimOwner(ctx, r, id); {
	case err == nil && owner != runID:
		return nil
	case err != nil && !errors.Is(err, remote.ErrNotFound):
		return fmt.Errorf("remote %s: %w", r.Name(), err)
	}
	if _, err := r.Stat(ctx, id.MetaKey()); errors.Is(err, remote.ErrNotFound) {
		if err := deleteBackup(ctx, r, vmUUID, ts); err != nil {
			return err
		}
	}
	if s, ok := r.(remote.Sweeper); ok {
		if err := sweepTemps(ctx, r.Name(), s, id); err != nil {
			return err
		}
	}
	if err := catalog.ReleaseClaim(ctx, r, id); err != nil { // last: the time stays claimed until its files are gone
		return fmt.Errorf("remote %s: %w", r.Name(), err)
	}
	return nil
}

// sweepTemps removes the temp files and pending uploads of backup id.
func sweepTemps(ctx context.Context, name string, s remote.Sweeper, id catalog.ID) error {
	temps, err := s.ListTemp(ctx, catalog.VMPrefix(id.VM))
	if err != nil {
		return fmt.Errorf("remote %s: list temp files: %w", name, err)
	}
	for _, t := range temps {
		if t.Key == id.DataKey() || t.Key == id.MetaKey() || t.Key == id.ChecksumKey() {
			if err := s.RemoveTemp(ctx, t); err != nil {
				return fmt.Errorf("remote %s: remove temp of %s: %w", name, t.Key, err)
			}
		}
	}
	return nil
}

// sweepSnapshots destroys snapshots of the VM carrying this run's key, and
// stale ones still under the temporary name. It reads the VM's own
// snapshots (VM.get_snapshots, then each record), never the pool's VM
// records: its cost does not grow with the pool.
func (w *Worker) sweepSnapshots(ctx context.Context, c *xapi.Client, vm xapi.VMRef, j *job) error {
	snaps, err := c.VMSnapshots(ctx, vm)
	if err != nil {
		return fmt.Errorf("list snapshots: %w", err)
	}
	var errs []error
	for _, ref := range snaps {
		snap, err := c.VMRecord(ctx, ref)
		if xapi.IsCode(err, xapi.CodeHandleInvalid) {
			continue // destroyed meanwhile
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("read snapshot %s: %w", ref, err))
			continue
		}
		if !snap.IsASnapshot || !w.leftover(snap, j) {
			continue
		}
		w.d.Log.Warn("removing a snapshot left by an earlier attempt", "run", j.req.RunID, "vm_uuid", j.req.VMUUID, "snapshot", snap.UUID)
		if err := c.DestroyVM(ctx, ref); err != nil && !xapi.IsCode(err, xapi.CodeHandleInvalid) {
			errs = append(errs, fmt.Errorf("destroy leftover snapshot %s: %w", snap.UUID, err))
		}
	}
	return errors.Join(errs...)
}

// leftover reports whether snap, a snapshot of the job's VM, was left by an
// attempt of this run or by a crash before it was labelled.
func (w *Worker) leftover(snap xapi.VM, j *job) bool {
	oc := snap.OtherConfig
	if oc[xotag.KeyRun] == j.req.RunID && oc[xotag.KeyVM] == j.req.VMUUID {
		return true
	}
	return snap.NameLabel == xotag.TempSnapshotName &&
		!snap.SnapshotTime.IsZero() && w.d.Now().Sub(snap.SnapshotTime) > tempSnapshotAge
}
