package protection_test

import (
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/config"
	"xbr/shared/history"
	"xbr/shared/protection"
	"xbr/shared/vmselect"
	"xbr/shared/xapi"
)

// A VM a job names by UUID that was migrated to a pool the job does not
// cover: the package doc says "missing: a job names the VM by UUID and no
// pool of the job has it". Compute says unprotected, "no ... job selects it".
func TestMigratedNamedVMIsMissing(t *testing.T) {
	pools := []vmselect.Pool{
		{Name: "lab", VMs: map[xapi.VMRef]xapi.VM{"OpaqueRef:b": {UUID: vmB, NameLabel: "db"}}},
		{Name: "other", VMs: map[xapi.VMRef]xapi.VM{"OpaqueRef:a": {UUID: vmA, NameLabel: "web"}}},
	}
	in := protection.Input{Pools: pools, Jobs: []config.Job{daily("nightly", "full", 26*time.Hour, vmA, vmB)},
		Runs: []history.Run{run("r1", "nightly", t0, map[string]string{vmA: history.StatusSuccess, vmB: history.StatusSuccess})},
		Now:  t0.Add(time.Hour)}
	for _, v := range protection.Compute(in) {
		if v.UUID == vmA && v.State != events.ProtectionMissing {
			t.Fatalf("vm named by job nightly, now in pool %q outside the job's pools: state %q (%s), want %q",
				v.Pool, v.State, v.Reason, events.ProtectionMissing)
		}
	}
}
