package history

import (
	"fmt"
	"strings"
	"time"

	"xbr/events"
)

func (p *Projection) applyRun(pl events.Payload, at time.Time) {
	switch e := pl.(type) {
	case events.ScheduleDue:
		r := p.run(e.RunID, at)
		r.Job, r.Schedule, r.Manual, r.RequestedBy = e.Job, e.Schedule, e.Manual, e.RequestedBy
		if e.Mode != "" {
			r.Message = runKind(e.Mode)
		}
	case events.RunStarted:
		r := p.run(e.RunID, at)
		r.Job, r.Schedule, r.Mode, r.Message = e.Job, e.Schedule, e.Mode, runKind(e.Mode)
		for _, v := range e.VMs {
			vm(r, v.VMUUID, v.VMName)
		}
	case events.RunCompleted:
		r := p.run(e.RunID, at)
		r.Job, r.Schedule = e.Job, e.Schedule
		r.finish(e.Status, at, e.DurationMS)
		r.Reason = e.Reason
		for _, res := range e.Results {
			applyResult(vm(r, res.VMUUID, res.VMName), res, at)
		}
	}
}

// applyResult records the coordinator's verdict on a VM, which wins.
func applyResult(t *Task, res events.VMResult, at time.Time) {
	if t.End.IsZero() {
		t.finish(res.Status, at, 0)
	}
	t.Status = res.Status
	if res.Error != "" {
		t.Error = res.Error
	}
	if res.Size > 0 {
		t.Size = res.Size
	}
	if res.BackupID != "" {
		t.BackupID = res.BackupID
	}
}

func (p *Projection) applyExport(pl events.Payload, at time.Time) {
	switch e := pl.(type) {
	case events.ExportRequested:
		vm(p.run(e.RunID, at), e.VMUUID, e.VMName)
	case events.ExportStarted:
		exportStarted(vm(p.run(e.RunID, at), e.VMUUID, e.VMName), e, at)
	case events.ExportProgress:
		p.run(e.RunID, at)
		p.addRate(e.RunID, RatePoint{Time: at, VMUUID: e.VMUUID, Bytes: e.Bytes,
			TotalBytes: e.TotalBytes, BytesPerSecond: e.BytesPerSecond})
	case events.ExportCompleted:
		exportCompleted(vm(p.run(e.RunID, at), e.VMUUID, e.VMName), e, at)
	case events.ExportFailed:
		v := vm(p.run(e.RunID, at), e.VMUUID, e.VMName)
		x := v.child(KindExport, KindExport)
		x.Attempts = max(x.Attempts, e.Attempts)
		x.finish(StatusFailure, at, e.DurationMS)
		x.Error = e.Error
		for _, t := range x.Tasks {
			if t.Status == StatusPending {
				t.fail(at, "")
			}
		}
		if v.Status == StatusPending {
			v.fail(at, e.Error)
		}
	}
}

func exportStarted(v *Task, e events.ExportStarted, at time.Time) {
	v.begin(at)
	if e.SnapshotUUID != "" {
		s := v.child(KindSnapshot, KindSnapshot)
		s.begin(at)
		s.finish(StatusSuccess, at, 0)
		s.Result = e.SnapshotUUID
	}
	x := v.child(KindExport, KindExport)
	x.begin(at)
	x.Attempts = max(x.Attempts, e.Attempt)
	for _, name := range e.Remotes {
		t := x.child(KindTransfer+":"+name, KindTransfer)
		t.Remote = name
		t.begin(at)
	}
}

func exportCompleted(v *Task, e events.ExportCompleted, at time.Time) {
	x := v.child(KindExport, KindExport)
	x.finish(StatusSuccess, at, e.DurationMS)
	x.Size, x.BytesPerSecond, x.Result = e.Size, e.BytesPerSecond, "sha256:"+e.SHA256
	done := map[string]bool{}
	for _, b := range e.Backups {
		t := x.child(KindTransfer+":"+b.Remote, KindTransfer)
		t.Remote, t.BackupID = b.Remote, b.BackupID
		t.finish(StatusSuccess, at, e.DurationMS)
		t.Size, t.BytesPerSecond = e.Size, e.BytesPerSecond
		done[b.Remote] = true
	}
	for _, t := range x.Tasks {
		if !done[t.Remote] && t.Status == StatusPending {
			t.fail(at, "no backup was committed on this remote")
			x.Warnings = append(x.Warnings, "remote "+t.Remote+": no backup committed")
		}
	}
	if v.Status == StatusPending {
		v.finish(StatusSuccess, at, 0)
	}
	v.Size = e.Size
	if len(e.Backups) > 0 {
		v.BackupID = e.Backups[0].BackupID
	}
}

func (p *Projection) applySnapshot(pl events.Payload, at time.Time) {
	switch e := pl.(type) {
	case events.SnapshotRequested:
		vm(p.run(e.RunID, at), e.VMUUID, e.VMName)
	case events.SnapshotCompleted:
		v := vm(p.run(e.RunID, at), e.VMUUID, e.VMName)
		s := v.child(KindSnapshot, KindSnapshot)
		s.finish(StatusSuccess, at, e.DurationMS)
		s.Result = e.SnapshotUUID
		if e.SnapshotName != "" {
			s.Result += " (" + e.SnapshotName + ")"
		}
		if v.Status == StatusPending {
			v.begin(s.Start)
			v.finish(StatusSuccess, at, 0)
		}
	case events.SnapshotFailed:
		v := vm(p.run(e.RunID, at), e.VMUUID, e.VMName)
		v.child(KindSnapshot, KindSnapshot).fail(at, e.Error)
		if v.Status == StatusPending {
			v.fail(at, e.Error)
		}
	}
}

func (p *Projection) applyPrune(pl events.Payload, at time.Time) {
	switch e := pl.(type) {
	case events.PruneCompleted:
		t := pruneTask(vm(p.run(e.RunID, at), e.VMUUID, ""), e.Kind, e.Remote)
		t.begin(at)
		t.finish(StatusSuccess, at, 0)
		t.Result = fmt.Sprintf("deleted %d%s, kept %d (retention %d)", len(e.Deleted), deletedIDs(e.Deleted), len(e.Kept), e.Retention)
	case events.PruneFailed:
		t := pruneTask(vm(p.run(e.RunID, at), e.VMUUID, ""), e.Kind, e.Remote)
		t.begin(at)
		t.fail(at, e.Error)
		t.Result = fmt.Sprintf("deleted %d%s before failing", len(e.Deleted), deletedIDs(e.Deleted))
	}
}

func pruneTask(v *Task, kind, remote string) *Task {
	t := v.child(KindPrune+":"+kind+":"+remote, KindPrune)
	t.Remote = remote
	if remote == "" {
		t.Remote = kind
	}
	return t
}

func deletedIDs(items []events.PrunedItem) string {
	if len(items) == 0 {
		return ""
	}
	ids := make([]string, len(items))
	for i, d := range items {
		ids[i] = d.ID + " [" + d.Reason + "]"
	}
	return " (" + strings.Join(ids, ", ") + ")"
}

// applyVerify records scheduled verifications (those with a run id) as
// "verify" tasks of the run's VMs.
func (p *Projection) applyVerify(pl events.Payload, at time.Time) {
	var run, job, backup, remote, vmUUID, errText string
	var size, ms int64
	switch e := pl.(type) {
	case events.VerifyCompleted:
		run, job, backup, remote, vmUUID, size, ms = e.RunID, e.Job, e.BackupID, e.Remote, e.VMUUID, e.Bytes, e.DurationMS
	case events.VerifyFailed:
		run, job, backup, remote, vmUUID, errText = e.RunID, e.Job, e.BackupID, e.Remote, e.VMUUID, e.Error
	}
	if run == "" {
		return
	}
	r := p.run(run, at)
	r.Job = job
	if r.Mode == "" {
		r.Mode = KindVerify
	}
	v := vm(r, vmUUID, "")
	v.begin(at)
	t := v.child(KindVerify+":"+backup, KindVerify)
	t.Remote, t.BackupID = remote, backup
	if errText != "" {
		t.fail(at, errText)
		v.fail(at, errText)
		return
	}
	t.finish(StatusSuccess, at, ms)
	t.Size = size
	if v.Status != StatusFailure {
		v.finish(StatusSuccess, at, 0)
	}
}

func (p *Projection) applyRestore(pl events.Payload, at time.Time) {
	switch e := pl.(type) {
	case events.RestoreRequested:
		r := p.restore(e.RequestID, e.BackupID, at)
		r.RequestedBy = e.RequestedBy
	case events.RestoreStarted:
		r := p.restore(e.RequestID, e.BackupID, at)
		r.child(KindTransfer, KindTransfer).begin(at)
	case events.RestoreProgress:
		p.run(e.RequestID, at)
		p.addRate(e.RequestID, RatePoint{Time: at, Bytes: e.Bytes, TotalBytes: e.TotalBytes, BytesPerSecond: e.BytesPerSecond})
	case events.RestoreCompleted:
		r := p.restore(e.RequestID, e.BackupID, at)
		r.finish(StatusSuccess, at, e.DurationMS)
		r.Size, r.BytesPerSecond = e.Bytes, e.BytesPerSecond
		r.Result = restoreResult(e.NewVMUUID, e.NewVMName)
		t := r.child(KindTransfer, KindTransfer)
		t.finish(StatusSuccess, at, e.DurationMS)
		t.Size, t.BytesPerSecond = e.Bytes, e.BytesPerSecond
	case events.RestoreFailed:
		p.restore(e.RequestID, e.BackupID, at).fail(at, e.Error)
	}
}

// restoreResult is a successful restore's Result: the new VM's uuid, then
// its name in parentheses.
func restoreResult(uuid, name string) string { return uuid + " (" + name + ")" }

// restoredVM is the uuid of the VM restore r created, read from its
// restoreResult ("" when r is not a successful restore).
func restoredVM(r *Run) string {
	if r.Message != KindRestore || r.Status != StatusSuccess {
		return ""
	}
	uuid, _, _ := strings.Cut(r.Result, " ")
	return uuid
}

func (p *Projection) restore(id, backup string, at time.Time) *Run {
	r := p.run(id, at)
	r.Message, r.Mode, r.BackupID = KindRestore, KindRestore, backup
	return r
}
