package history_test

import (
	"fmt"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/history"
)

// TestHealthCheckRestoresDoNotEvictARealRestore: every health check of a
// backup is a restore (its test VM, destroyed minutes later). Those
// restores take the KeepRuns slots of the restores kept for
// shared/protection, so after KeepRuns checks (one night of a job of that
// many VMs) a VM an operator restored is no longer known as restored: the
// overview shows it late ("no successful copy yet") instead of new.
func TestHealthCheckRestoresDoNotEvictARealRestore(t *testing.T) {
	p := history.New(history.Options{KeepRuns: 2, Now: func() time.Time { return t0.Add(24 * time.Hour) }})
	backup := "nfs:" + vmA + "/20261129T010002Z"
	real := fmt.Sprintf("%032x", 1)
	list := []stamped{{time.Hour, events.RestoreRequested{RequestID: real, BackupID: backup, Pool: "lab", RequestedBy: "alice"}},
		{time.Hour + time.Minute, events.RestoreCompleted{RequestID: real, BackupID: backup, Pool: "lab",
			NewVMUUID: vmB, NewVMName: "restored", Bytes: 4096, DurationMS: 60000}}}
	for i := 2; i <= 6; i++ {
		at := time.Duration(i) * time.Hour
		hc := events.NewHealthCheckID("healthcheck", fmt.Sprint(i))
		vm := fmt.Sprintf("%08x-0000-4000-8000-000000000000", i)
		list = append(list, stamped{at, events.RestoreRequested{RequestID: hc, BackupID: backup, Pool: "lab",
			Name: "xbr health check of web", RequestedBy: "healthcheck"}},
			stamped{at + time.Minute, events.RestoreCompleted{RequestID: hc, BackupID: backup, Pool: "lab",
				NewVMUUID: vm, NewVMName: "xbr health check of web", Bytes: 4096, DurationMS: 60000}})
	}
	for _, r := range build(t, list) {
		p.Apply(r)
	}
	for _, r := range append(p.Runs(), p.Restores()...) {
		if r.ID == real {
			return
		}
	}
	t.Fatalf("the operator's restore of VM %s is no longer held after 5 health checks (KeepRuns 2)", vmB)
}
