package history

import (
	"fmt"
	"time"

	"xbr/events"
)

// KindHealthCheck is a health check: under the VM of the run whose backup
// it booted, or a run of its own when asked on demand.
const KindHealthCheck = "health check"

// healthRef is where a health check's task lives: its run and VM.
type healthRef struct{ run, vmUUID, vmName, backupID string }

func (p *Projection) applyHealth(pl events.Payload, at time.Time) {
	switch e := pl.(type) {
	case events.HealthCheckRequested:
		p.health[e.RequestID] = healthRef{run: e.RunID, vmUUID: e.VMUUID, vmName: e.VMName, backupID: e.BackupID}
		p.healthTask(e.RequestID, e.BackupID, at).BackupID = e.BackupID
	case events.HealthCheckStarted:
		t := p.healthTask(e.RequestID, e.BackupID, at)
		t.begin(at)
		t.Result = "test VM " + e.TestVMUUID
	case events.HealthCheckCompleted:
		t := p.healthTask(e.RequestID, e.BackupID, at)
		t.finish(StatusSuccess, at, e.DurationMS)
		t.Result = fmt.Sprintf("boots: %s reported in %s", e.Method, time.Duration(e.BootMS)*time.Millisecond)
		delete(p.health, e.RequestID)
	case events.HealthCheckFailed:
		t := p.healthTask(e.RequestID, e.BackupID, at)
		t.fail(at, e.Error)
		t.DurationMS, t.Reason = e.DurationMS, e.Reason
		delete(p.health, e.RequestID)
	}
}

// healthTask is the task of health check id: a child of its backup's VM
// when the check followed a run, else a run of its own.
func (p *Projection) healthTask(id, backupID string, at time.Time) *Task {
	ref, ok := p.health[id]
	if !ok || ref.run == "" {
		r := p.run(id, at)
		r.Message, r.Mode, r.BackupID = KindHealthCheck, KindHealthCheck, backupID
		return &r.Task
	}
	t := vm(p.run(ref.run, at), ref.vmUUID, ref.vmName).child(KindHealthCheck+":"+id, KindHealthCheck)
	t.BackupID = ref.backupID
	t.begin(at)
	return t
}
