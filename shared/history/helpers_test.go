package history_test

import (
	"testing"
	"time"

	"xbr/events"
)

var t0 = time.Date(2026, 11, 29, 1, 0, 0, 0, time.UTC)

const (
	run1 = "4e1d3c2b5a69788796a5b4c3d2e1f001"
	run2 = "4e1d3c2b5a69788796a5b4c3d2e1f002"
	vmA  = "6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f"
	vmB  = "7c3d2f9e-4e5b-4a6c-8d8e-3f2b1c0d9e8a"
	snap = "0f9e8d7c-6b5a-4948-8372-61504f3e2d1c"
	sha  = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
)

// stamped is a payload and when it happened.
type stamped struct {
	at time.Duration
	p  events.Payload
}

// build turns payloads into received events with derived ids.
func build(t testing.TB, list []stamped) []events.Received {
	t.Helper()
	var out []events.Received
	for i, s := range list {
		at := t0.Add(s.at)
		m, err := events.Subjects{}.Message(events.Meta{ID: events.DeriveID("test", string(rune(i)), at.String(), string(s.p.EventType())),
			Source: events.Source("test"), Time: at}, s.p)
		if err != nil {
			t.Fatalf("event %d (%s): %v", i, s.p.EventType(), err)
		}
		out = append(out, events.Received{Message: m, Payload: s.p})
	}
	return out
}

// backupRun is a full run of two VMs to two remotes: VM A succeeds on both
// and is pruned, VM B fails after two attempts.
func backupRun() []stamped {
	return []stamped{
		{0, events.ScheduleDue{RunID: run1, Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: t0}},
		{time.Second, events.RunStarted{RunID: run1, Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: t0,
			VMs: []events.RunVM{{VMUUID: vmA, VMName: "web-1", Pool: "lab"}, {VMUUID: vmB, VMName: "db-1", Pool: "lab"}}}},
		{2 * time.Second, events.ExportStarted{RunID: run1, Job: "nightly", Schedule: "daily", VMUUID: vmA, VMName: "web-1",
			Pool: "lab", Remotes: []string{"nfs", "gw"}, Codec: "zstd", SnapshotUUID: snap, Attempt: 1}},
		{7 * time.Second, events.ExportProgress{RunID: run1, Job: "nightly", VMUUID: vmA, Transfer: events.Transfer{Bytes: 100 << 20, TotalBytes: 400 << 20, BytesPerSecond: 20 << 20}}},
		{12 * time.Second, events.ExportProgress{RunID: run1, Job: "nightly", VMUUID: vmA, Transfer: events.Transfer{Bytes: 300 << 20, TotalBytes: 400 << 20, BytesPerSecond: 40 << 20}}},
		{14 * time.Second, events.ExportCompleted{RunID: run1, Job: "nightly", Schedule: "daily", VMUUID: vmA, VMName: "web-1",
			Pool: "lab", Timestamp: "20261129T010002Z", Codec: "zstd", Size: 200 << 20, BytesRead: 400 << 20, SHA256: sha,
			DurationMS: 12000, BytesPerSecond: (200 << 20) / 12,
			Backups: []events.RemoteBackup{{Remote: "nfs", BackupID: "nfs:" + vmA + "/20261129T010002Z"}, {Remote: "gw", BackupID: "gw:" + vmA + "/20261129T010002Z"}}}},
		{15 * time.Second, events.PruneCompleted{RunID: run1, Job: "nightly", Schedule: "daily", VMUUID: vmA, Kind: events.PruneBackups,
			Remote: "nfs", Retention: 1, Kept: []string{"nfs:" + vmA + "/20261129T010002Z"},
			Deleted: []events.PrunedItem{{ID: "nfs:" + vmA + "/20261128T010002Z", Timestamp: "20261128T010002Z", Reason: "beyond-depth"}}}},
		{16 * time.Second, events.ExportStarted{RunID: run1, Job: "nightly", Schedule: "daily", VMUUID: vmB, VMName: "db-1",
			Pool: "lab", Remotes: []string{"nfs", "gw"}, Codec: "zstd", Attempt: 2}},
		{20 * time.Second, events.ExportFailed{RunID: run1, Job: "nightly", Schedule: "daily", VMUUID: vmB, VMName: "db-1",
			Pool: "lab", Error: "export vm db-1: remote nfs: no space left on device", Attempts: 2, DurationMS: 4000}},
		{21 * time.Second, events.RunCompleted{RunID: run1, Job: "nightly", Schedule: "daily", Status: events.StatusPartial, DurationMS: 21000,
			Results: []events.VMResult{
				{VMUUID: vmA, VMName: "web-1", Status: events.StatusSuccess, Size: 200 << 20, BackupID: "nfs:" + vmA + "/20261129T010002Z"},
				{VMUUID: vmB, VMName: "db-1", Status: events.StatusFailure, Error: "export vm db-1: remote nfs: no space left on device"}}}},
	}
}

// skippedRun is a fire that found its job running.
func skippedRun() []stamped {
	return []stamped{
		{time.Hour, events.ScheduleDue{RunID: run2, Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: t0.Add(time.Hour)}},
		{time.Hour + time.Second, events.RunCompleted{RunID: run2, Job: "nightly", Schedule: "daily", Status: events.StatusSkipped,
			Reason: "already running (run " + run1 + ")"}},
	}
}
