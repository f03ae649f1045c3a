package events_test

import (
	"slices"
	"time"

	"xbr/events"
)

const (
	exVM     = "6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f"
	exSnap   = "0f9e8d7c-6b5a-4948-8372-61504f3e2d1c"
	exNewVM  = "a1b2c3d4-e5f6-4a5b-8c9d-0e1f2a3b4c5d"
	exRun    = "4e1d3c2b5a69788796a5b4c3d2e1f001"
	exReq    = "r-20261129-0001"
	exSHA    = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	exBackup = "nfs/6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f/20261129T010000Z"
	exStamp  = "20261129T010000Z"
	exFo     = "f-20261129-0001"
)

var exFire = time.Date(2026, 11, 29, 1, 0, 0, 0, time.UTC)

// examples returns one valid payload per type, in events.Types() order.
func examples() []events.Payload {
	vmRes := events.VMResult{VMUUID: exVM, VMName: "web-1", Status: events.StatusSuccess, Size: 1 << 30, BackupID: exBackup}
	return append([]events.Payload{
		events.ScheduleDue{RunID: exRun, Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: exFire},
		events.RunStarted{RunID: exRun, Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: exFire,
			VMs: []events.RunVM{{VMUUID: exVM, VMName: "web-1", Pool: "lab"}}},
		events.RunCompleted{RunID: exRun, Job: "nightly", Schedule: "daily", Status: events.StatusSuccess,
			DurationMS: 61000, Results: []events.VMResult{vmRes}},
		events.ExportRequested{RunID: exRun, Job: "nightly", Schedule: "daily", FireTime: exFire, VMUUID: exVM,
			VMName: "web-1", Pool: "lab", Remotes: []string{"nfs", "gateway"}, Codec: events.CodecZstd},
		events.ExportStarted{RunID: exRun, Job: "nightly", Schedule: "daily", VMUUID: exVM, VMName: "web-1",
			Pool: "lab", Remotes: []string{"nfs", "gateway"}, Codec: events.CodecZstd, SnapshotUUID: exSnap, Attempt: 1},
		events.ExportProgress{RunID: exRun, Job: "nightly", VMUUID: exVM, Transfer: events.Transfer{Bytes: 512 << 20,
			TotalBytes: 2 << 30, BytesPerSecond: 400 << 20, ETASeconds: 4}},
		events.ExportCompleted{RunID: exRun, Job: "nightly", Schedule: "daily", VMUUID: exVM, VMName: "web-1",
			Pool: "lab", Timestamp: exStamp, Codec: events.CodecZstd, Size: 1 << 30, BytesRead: 2 << 30,
			SHA256: exSHA, DurationMS: 5400, BytesPerSecond: 397 << 20,
			Backups: []events.RemoteBackup{{Remote: "nfs", BackupID: exBackup}}},
		events.ExportFailed{RunID: exRun, Job: "nightly", Schedule: "daily", VMUUID: exVM, Pool: "lab",
			Error: "export vm web-1: remote nfs: no space left on device", Attempts: 3, DurationMS: 800},
		events.SnapshotRequested{RunID: exRun, Job: "hourly-snap", Schedule: "hourly", FireTime: exFire,
			VMUUID: exVM, Pool: "lab", Retention: 2},
		events.SnapshotCompleted{RunID: exRun, Job: "hourly-snap", Schedule: "hourly", VMUUID: exVM, Pool: "lab",
			SnapshotUUID: exSnap, SnapshotName: "web-1 - hourly-snap - 20261129T010000Z", Timestamp: exStamp, DurationMS: 900},
		events.SnapshotFailed{RunID: exRun, Job: "hourly-snap", Schedule: "hourly", VMUUID: exVM, Pool: "lab",
			Error: "VM.snapshot: SR_FULL"},
		events.PruneCompleted{RunID: exRun, Job: "nightly", Schedule: "daily", VMUUID: exVM, Kind: events.PruneBackups,
			Remote: "nfs", Retention: 1, Kept: []string{"nfs:xbr-repo/" + exVM + "/20261129T010000Z"},
			Deleted: []events.PrunedItem{{ID: "nfs:xbr-repo/" + exVM + "/20261128T010000Z", Timestamp: "20261128T010000Z", Reason: "beyond depth 1"}}},
		events.PruneFailed{RunID: exRun, Job: "nightly", Schedule: "daily", VMUUID: exVM, Kind: events.PruneSnapshots,
			Error: "VM.destroy: VM_BAD_POWER_STATE"},
		events.RestoreRequested{RequestID: exReq, BackupID: exBackup, Pool: "lab", Start: true, RequestedBy: "webhook"},
		events.RestoreStarted{RequestID: exReq, BackupID: exBackup, Pool: "lab", SR: "Local storage", VMUUID: exVM, TotalBytes: 1 << 30},
		events.RestoreProgress{RequestID: exReq, Transfer: events.Transfer{Bytes: 256 << 20, TotalBytes: 1 << 30,
			BytesPerSecond: 300 << 20, ETASeconds: 3}},
		events.RestoreCompleted{RequestID: exReq, BackupID: exBackup, Pool: "lab", SR: "Local storage", NewVMUUID: exNewVM,
			NewVMName: "web-1 (2026-11-29 01:00)", Bytes: 2 << 30, DurationMS: 7000, BytesPerSecond: 306 << 20, Started: true},
		events.RestoreFailed{RequestID: exReq, BackupID: exBackup, Pool: "lab", Error: "sha256 mismatch: backup is corrupt"},
		events.ReplicateRequested{RunID: exRun, Job: "dr", Schedule: "nightly", FireTime: exFire, VMUUID: exVM,
			VMName: "web-1", Pool: "lab", TargetPool: "standby", TargetSR: "Local storage"},
		events.ReplicateStarted{RunID: exRun, Job: "dr", Schedule: "nightly", VMUUID: exVM, VMName: "web-1", Pool: "lab",
			TargetPool: "standby", TargetSR: "Local storage", Attempt: 1},
		events.ReplicateProgress{RunID: exRun, Job: "dr", VMUUID: exVM, Transfer: events.Transfer{Bytes: 1 << 30,
			TotalBytes: 2 << 30, BytesPerSecond: 200 << 20, ETASeconds: 5}},
		events.ReplicateCompleted{RunID: exRun, Job: "dr", Schedule: "nightly", VMUUID: exVM, VMName: "web-1", Pool: "lab",
			TargetPool: "standby", TargetSR: "Local storage", CopyUUID: exNewVM, CopyName: "web-1 - dr - (2026-11-29T01:00:00Z)",
			Timestamp: exStamp, Bytes: 2 << 30, DurationMS: 10000, BytesPerSecond: 204 << 20},
		events.ReplicateFailed{RunID: exRun, Job: "dr", Schedule: "nightly", VMUUID: exVM, Pool: "lab",
			TargetPool: "standby", TargetSR: "Local storage", Error: "import: connection reset by peer"},
		events.VerifyCompleted{BackupID: exBackup, Remote: "nfs", VMUUID: exVM, Deep: true, SHA256: exSHA, Bytes: 1 << 30, DurationMS: 2500},
		events.VerifyFailed{BackupID: exBackup, Remote: "nfs", VMUUID: exVM, Error: "sha256 mismatch: got 00ff…, want 9f86…"},
	}, slices.Concat(failoverExamples(), incrementalExamples(), repoExamples(), metadataExamples())...)
}

// incrementalExamples are the examples of the incremental types.
func incrementalExamples() []events.Payload {
	point := "nfs:xbr-repo/" + exVM + "/" + exStamp
	return []events.Payload{
		events.IncrementalRequested{RunID: exRun, Job: "incr", Schedule: "nightly", FireTime: exFire, VMUUID: exVM,
			VMName: "web-1", Pool: "lab", Remote: "nfs", CBT: events.CBTEnable},
		events.IncrementalStarted{RunID: exRun, Job: "incr", Schedule: "nightly", VMUUID: exVM, VMName: "web-1",
			Pool: "lab", Remote: "nfs", SnapshotUUID: exSnap, Attempt: 1},
		events.IncrementalProgress{RunID: exRun, Job: "incr", VMUUID: exVM, Transfer: events.Transfer{Bytes: 96 << 20,
			TotalBytes: 160 << 20, BytesPerSecond: 300 << 20, ETASeconds: 1}},
		events.IncrementalCompleted{RunID: exRun, Job: "incr", Schedule: "nightly", VMUUID: exVM, VMName: "web-1",
			Pool: "lab", Timestamp: exStamp, Path: events.PathCBT, BytesRead: 38 << 20, BytesStored: 61 << 20,
			ChunksNew: 150, ChunksReused: 10, ChunksPatched: 130, DedupRatio: 2.46, DurationMS: 900, BytesPerSecond: 42 << 20,
			Backups: []events.RemoteBackup{{Remote: "nfs", BackupID: point}}},
		events.IncrementalFailed{RunID: exRun, Job: "incr", Schedule: "nightly", VMUUID: exVM, Pool: "lab",
			Error: "incremental vm web-1: NBD read: connection reset by peer", Attempts: 3, DurationMS: 800},
	}
}

// failoverExamples are the examples of the failover types.
func failoverExamples() []events.Payload {
	return []events.Payload{
		events.FailoverRequested{RequestID: exFo, VM: "web-1", Copy: "latest", Start: true, RequestedBy: "cli:ops@admin1"},
		events.FailoverCompleted{RequestID: exFo, VM: "web-1", VMUUID: exVM, CopyUUID: exNewVM,
			CopyName: "web-1 - dr - (20261129T010000Z)", Pool: "standby", Job: "dr", RecoveryPoint: exStamp,
			Unblocked: true, Started: true, PowerState: "Running", Source: events.SourceUnreachable, SourcePool: "lab",
			Note:        "source pool lab did not answer (dial tcp 10.0.0.5:443: i/o timeout): failed over without checking the source VM",
			RequestedBy: "cli:ops@admin1"},
		events.FailoverFailed{RequestID: exFo, VM: "web-1", CopyUUID: exNewVM, Pool: "standby", Refused: true,
			Source: events.SourceRunning, SourcePool: "lab", RequestedBy: "webhook",
			Error: "source VM web-1 is still running on pool lab; stop it or use --force"},
	}
}

// repoExamples are the examples of the repository maintenance types: gc and mirror.
func repoExamples() []events.Payload {
	return []events.Payload{
		events.GCCompleted{RunID: exRun, Job: "weekly-gc", Schedule: "sunday", Remote: "nfs", Manifests: 42,
			Referenced: 18230, ChunksSwept: 412, BytesSwept: 231 << 20, DurationMS: 5300},
		events.GCFailed{RunID: exRun, Job: "weekly-gc", Schedule: "sunday", Remote: "nfs",
			Error: "gc mark: restore point 6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f/20261129T010000Z: corrupt"},
		events.MirrorRequested{RunID: exRun, Job: "offsite", Schedule: "nightly", FireTime: exFire, VMUUID: exVM,
			Source: "nfs", Targets: []string{"s3"}, Retention: 14},
		events.MirrorCompleted{RunID: exRun, Job: "offsite", Schedule: "nightly", VMUUID: exVM, Source: "nfs",
			Targets: []events.MirrorTarget{{Remote: "s3", Copied: []string{"s3:xbr-repo/" + exVM + "/20261129T010000Z"},
				ChunksCopied: 96, BytesCopied: 61 << 20,
				Deleted: []events.PrunedItem{{ID: "s3:xbr-repo/" + exVM + "/20261115T010000Z", Timestamp: "20261115T010000Z", Reason: "beyond depth 14"}}}},
			DurationMS: 4200},
		events.MirrorFailed{RunID: exRun, Job: "offsite", Schedule: "nightly", VMUUID: exVM, Source: "nfs",
			Error: "copy restore point to remote s3: the repositories cut, name or encrypt chunks differently: chunk_size 65536 on the target, 1048576 on the source"},
		events.HealthCheckRequested{RequestID: "hc-" + exReq, BackupID: exBackup, RunID: exRun, Job: "nightly",
			Schedule: "daily", VMUUID: exVM, VMName: "web-1", Pool: "lab", SR: "Local storage",
			Method: events.HealthMethodGuestMetrics, TimeoutMS: 600000},
		events.HealthCheckStarted{RequestID: "hc-" + exReq, BackupID: exBackup, Job: "nightly", VMUUID: exVM,
			Pool: "lab", SR: "Local storage", TestVMUUID: exNewVM},
		events.HealthCheckCompleted{RequestID: "hc-" + exReq, BackupID: exBackup, Job: "nightly", VMUUID: exVM,
			Pool: "lab", SR: "Local storage", Method: events.HealthMethodGuestMetrics, BootMS: 23000, DurationMS: 41000},
		events.HealthCheckFailed{RequestID: "hc-" + exReq, BackupID: exBackup, Job: "nightly", VMUUID: exVM,
			Pool: "lab", SR: "Local storage", Reason: events.HealthReasonTimeout,
			Error: "the guest of test VM a1b2c3d4-e5f6-4a5b-8c9d-0e1f2a3b4c5d did not report within 10m0s", DurationMS: 615000},
	}
}

// metadataExamples are the examples of the pool metadata backup types.
func metadataExamples() []events.Payload {
	const pool, sched = "1f0c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", "5b8e2f1c-7a3d-5e9f-b0c1-d2e3f4a5b6c7"
	dir := "nfs:xo-pool-metadata-backups/" + sched + "/" + pool + "/"
	return []events.Payload{
		events.MetadataCompleted{RunID: exRun, Job: "pooldb", Schedule: "nightly", Pool: "lab", PoolUUID: pool, Remote: "nfs",
			BackupID: dir + "20261129T010000Z", Bytes: 734003, SHA256: "7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c",
			Deleted: []string{dir + "20261122T010000Z"}, DurationMS: 840},
		events.MetadataFailed{RunID: exRun, Job: "pooldb", Schedule: "nightly", Pool: "lab", Remote: "nfs",
			Error: "dump the pool database: connect: connection refused"},
		events.RemoteUsage{RunID: exRun, Job: "nightly", Remote: "nfs", UsedBytes: 412 << 30, Objects: 96,
			FreeBytes: new(int64(1700 << 30))},
	}
}
