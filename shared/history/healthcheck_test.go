package history_test

import (
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/history"
)

// TestHealthCheckTask: a health check after a run is a task under the VM
// of the backup it booted; one asked on demand is a run of its own.
func TestHealthCheckTask(t *testing.T) {
	backup := "nfs:" + vmA + "/20261129T010002Z"
	p := project(t0.Add(time.Hour), build(t, []stamped{
		{0, events.RunStarted{RunID: run1, Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: t0,
			VMs: []events.RunVM{{VMUUID: vmA, VMName: "web-1", Pool: "lab"}}}},
		{time.Second, events.HealthCheckRequested{RequestID: "hc-1", BackupID: backup, RunID: run1, Job: "nightly",
			Schedule: "daily", VMUUID: vmA, VMName: "web-1", Pool: "lab", SR: "Local storage",
			Method: events.HealthMethodGuestMetrics, TimeoutMS: 600000}},
		{2 * time.Second, events.HealthCheckStarted{RequestID: "hc-1", BackupID: backup, Job: "nightly", VMUUID: vmA,
			Pool: "lab", SR: "Local storage", TestVMUUID: vmB}},
		{4 * time.Second, events.HealthCheckFailed{RequestID: "hc-1", BackupID: backup, Job: "nightly", VMUUID: vmA,
			Pool: "lab", Reason: events.HealthReasonTimeout, Error: "no report within 10m0s", DurationMS: 3000}},
		{5 * time.Second, events.HealthCheckRequested{RequestID: "hc-2", BackupID: backup, VMUUID: vmA, Pool: "lab",
			SR: "Local storage", Method: events.HealthMethodXenStore, TimeoutMS: 60000}},
		{7 * time.Second, events.HealthCheckCompleted{RequestID: "hc-2", BackupID: backup, VMUUID: vmA, Pool: "lab",
			SR: "Local storage", Method: events.HealthMethodXenStore, BootMS: 1500, DurationMS: 2000}},
	}))
	r, ok := p.Run(run1)
	if !ok {
		t.Fatal("no run")
	}
	hc := find(t, find(t, &r.Task, vmA), history.KindHealthCheck+":hc-1")
	if hc.Status != history.StatusFailure || hc.Reason != events.HealthReasonTimeout || hc.BackupID != backup ||
		!strings.Contains(hc.Error, "10m0s") || hc.Result != "test VM "+vmB {
		t.Errorf("health check task under the VM = %+v", hc)
	}
	own, ok := p.Run("hc-2")
	if !ok || own.Message != history.KindHealthCheck || own.Status != history.StatusSuccess || !strings.HasPrefix(own.Result, "boots: xenstore") {
		t.Errorf("on-demand health check = %+v (%v)", own, ok)
	}
}
