package events

import "strings"

// Type is a CloudEvent type, e.g. "xbr.export.requested".
type Type string

// Every event type of the contract (architecture §4).
const (
	TypeScheduleDue        Type = "xbr.schedule.due"
	TypeRunStarted         Type = "xbr.run.started"
	TypeRunCompleted       Type = "xbr.run.completed"
	TypeExportRequested    Type = "xbr.export.requested"
	TypeExportStarted      Type = "xbr.export.started"
	TypeExportProgress     Type = "xbr.export.progress"
	TypeExportCompleted    Type = "xbr.export.completed"
	TypeExportFailed       Type = "xbr.export.failed"
	TypeSnapshotRequested  Type = "xbr.snapshot.requested"
	TypeSnapshotCompleted  Type = "xbr.snapshot.completed"
	TypeSnapshotFailed     Type = "xbr.snapshot.failed"
	TypePruneCompleted     Type = "xbr.prune.completed"
	TypePruneFailed        Type = "xbr.prune.failed"
	TypeRestoreRequested   Type = "xbr.restore.requested"
	TypeRestoreStarted     Type = "xbr.restore.started"
	TypeRestoreProgress    Type = "xbr.restore.progress"
	TypeRestoreCompleted   Type = "xbr.restore.completed"
	TypeRestoreFailed      Type = "xbr.restore.failed"
	TypeReplicateRequested Type = "xbr.replicate.requested"
	TypeReplicateStarted   Type = "xbr.replicate.started"
	TypeReplicateProgress  Type = "xbr.replicate.progress"
	TypeReplicateCompleted Type = "xbr.replicate.completed"
	TypeReplicateFailed    Type = "xbr.replicate.failed"
	TypeVerifyCompleted    Type = "xbr.verify.completed"
	TypeVerifyFailed       Type = "xbr.verify.failed"
	TypeFailoverRequested  Type = "xbr.failover.requested"
	TypeFailoverCompleted  Type = "xbr.failover.completed"
	TypeFailoverFailed     Type = "xbr.failover.failed"

	TypeIncrementalRequested Type = "xbr.incremental.requested"
	TypeIncrementalStarted   Type = "xbr.incremental.started"
	TypeIncrementalProgress  Type = "xbr.incremental.progress"
	TypeIncrementalCompleted Type = "xbr.incremental.completed"
	TypeIncrementalFailed    Type = "xbr.incremental.failed"
	TypeGCCompleted          Type = "xbr.gc.completed"
	TypeGCFailed             Type = "xbr.gc.failed"
	TypeMirrorRequested      Type = "xbr.mirror.requested"
	TypeMirrorCompleted      Type = "xbr.mirror.completed"
	TypeMirrorFailed         Type = "xbr.mirror.failed"

	TypeMetadataCompleted    Type = "xbr.metadata.completed"
	TypeMetadataFailed       Type = "xbr.metadata.failed"
	TypeHealthCheckRequested Type = "xbr.healthcheck.requested"
	TypeHealthCheckStarted   Type = "xbr.healthcheck.started"
	TypeHealthCheckCompleted Type = "xbr.healthcheck.completed"
	TypeHealthCheckFailed    Type = "xbr.healthcheck.failed"
	TypeRemoteUsage          Type = "xbr.remote.usage"
)

// Types returns every type of the contract, in a stable order.
func Types() []Type {
	return []Type{
		TypeScheduleDue, TypeRunStarted, TypeRunCompleted,
		TypeExportRequested, TypeExportStarted, TypeExportProgress, TypeExportCompleted, TypeExportFailed,
		TypeSnapshotRequested, TypeSnapshotCompleted, TypeSnapshotFailed,
		TypePruneCompleted, TypePruneFailed,
		TypeRestoreRequested, TypeRestoreStarted, TypeRestoreProgress, TypeRestoreCompleted, TypeRestoreFailed,
		TypeReplicateRequested, TypeReplicateStarted, TypeReplicateProgress, TypeReplicateCompleted, TypeReplicateFailed,
		TypeVerifyCompleted, TypeVerifyFailed,
		TypeFailoverRequested, TypeFailoverCompleted, TypeFailoverFailed,
		TypeIncrementalRequested, TypeIncrementalStarted, TypeIncrementalProgress, TypeIncrementalCompleted,
		TypeIncrementalFailed,
		TypeGCCompleted, TypeGCFailed,
		TypeMirrorRequested, TypeMirrorCompleted, TypeMirrorFailed,
		TypeHealthCheckRequested, TypeHealthCheckStarted, TypeHealthCheckCompleted, TypeHealthCheckFailed,
		TypeMetadataCompleted, TypeMetadataFailed,
		TypeRemoteUsage,
	}
}

// Known reports whether t is a type of the contract.
func (t Type) Known() bool {
	_, ok := newPayload(t)
	return ok
}

// Domain is the second token of the type ("export" for xbr.export.requested).
func (t Type) Domain() string { return t.token(1) }

// Verb is the third token of the type ("requested" for xbr.export.requested).
func (t Type) Verb() string { return t.token(2) }

// Short is the type without its "xbr." namespace, used in error messages.
func (t Type) Short() string { return strings.TrimPrefix(string(t), "xbr.") }

// IsProgress reports whether t is a high-rate progress event, kept in the
// short-lived progress stream instead of the lifecycle stream.
func (t Type) IsProgress() bool { return t.Verb() == "progress" }

func (t Type) token(i int) string {
	parts := strings.Split(string(t), ".")
	if i < len(parts) {
		return parts[i]
	}
	return ""
}

// Description says what an event of type t means, for docs and tools.
func (t Type) Description() string { return descriptions[t] }

var descriptions = map[Type]string{
	TypeScheduleDue:        "A schedule of a job fired (by the timer or `xbr run`); starts a run. The job's mode is in the subject, so each planner reads its own.",
	TypeRunStarted:         "A run of a job began; lists the VMs it selected.",
	TypeRunCompleted:       "A run ended: success, failure, partial or skipped, with per-VM results.",
	TypeExportRequested:    "Back up one VM of a run to every remote of the job (one per VM).",
	TypeExportStarted:      "The export worker took the VM and is snapshotting/streaming it.",
	TypeExportProgress:     "Bytes streamed so far, rate and ETA of one VM's export (every 400 ms while it streams).",
	TypeExportCompleted:    "One VM's backup is committed on every remote (size, SHA-256, codec, duration).",
	TypeExportFailed:       "One VM's backup failed; no backup was committed and the snapshot was removed.",
	TypeSnapshotRequested:  "Take a rolling snapshot of one VM.",
	TypeSnapshotCompleted:  "A rolling snapshot of one VM was taken.",
	TypeSnapshotFailed:     "A rolling snapshot of one VM failed.",
	TypePruneCompleted:     "Backups or snapshots beyond the retention depth were deleted (what and why).",
	TypePruneFailed:        "Pruning failed; nothing beyond what is listed as deleted was removed.",
	TypeRestoreRequested:   "Restore a backup to a pool/SR (from the web page, webhook, chat or CLI).",
	TypeRestoreStarted:     "The restore worker began streaming the backup into the target pool.",
	TypeRestoreProgress:    "Bytes imported so far, rate and ETA of a restore.",
	TypeRestoreCompleted:   "The backup was imported as a new VM (uuid, name, bytes, duration).",
	TypeRestoreFailed:      "The restore failed and left no imported VM behind.",
	TypeReplicateRequested: "Replicate one VM of a run to the standby pool (one per VM).",
	TypeReplicateStarted:   "The replicate worker began an attempt at one VM (one per attempt).",
	TypeReplicateProgress:  "Bytes transferred so far, rate and ETA of one VM's replication.",
	TypeReplicateCompleted: "A start-blocked copy of the VM is ready on the standby pool.",
	TypeReplicateFailed:    "Replication of one VM failed; the previous copy is kept.",
	TypeVerifyCompleted:    "A backup was re-read and matches its SHA-256 (and, deep, every chunk).",
	TypeVerifyFailed:       "A backup failed verification: unreadable, truncated or corrupt.",
	TypeFailoverRequested:  "Fail a VM over to a standby copy (from the CLI, web page, webhook or chat), with who asked.",
	TypeFailoverCompleted:  "Start is unblocked on the copy (booted if asked); says what was known of the source VM.",
	TypeFailoverFailed:     "Nothing was failed over: refused while the source VM or another copy of it runs (unless forced), or an error.",

	TypeIncrementalRequested: "Store one restore point of one VM in the job's remote's chunk repository (one per VM).",
	TypeIncrementalStarted:   "The incremental worker began an attempt at one VM (one per attempt).",
	TypeIncrementalProgress:  "Bytes read from the host so far, rate and ETA of one VM's restore point.",
	TypeIncrementalCompleted: "A restore point is committed: the path taken (cbt or full-scan and why), bytes read from the host, new bytes stored, chunks new and reused, dedup ratio.",
	TypeIncrementalFailed:    "One VM's restore point failed; nothing was committed, the new snapshot was removed and the previous changed-block base kept.",
	TypeGCCompleted:          "A garbage collection of a remote's incremental repository ended (what it swept, or deferred): a gc job's, or the one at the end of an incremental or mirror run that deleted restore points.",
	TypeGCFailed:             "A garbage collection stopped; what it swept before is counted, the next one resumes.",
	TypeMirrorRequested:      "Copy one VM's restore points from a mirror job's source repository to its targets (one per VM).",
	TypeMirrorCompleted:      "One VM's restore points are on every target: what was copied and what the target's retention deleted.",
	TypeMirrorFailed:         "The mirror of one VM stopped; nothing half-copied is a restore point, the next run completes it.",

	TypeMetadataCompleted:    "One pool's database dump and xbr's state are committed on one remote in Xen Orchestra's layout; what the retention deleted.",
	TypeMetadataFailed:       "One pool's database was not backed up to one remote; nothing was committed there and nothing deleted.",
	TypeHealthCheckRequested: "Boot one backup (or clone one replica) as a test VM without VIFs and wait for its guest (one per VM, or on demand).",
	TypeHealthCheckStarted:   "The health check's test VM exists, tagged xbr:healthcheck, and is being started.",
	TypeHealthCheckCompleted: "The backup booted: its guest reported; the test VM and its disks were destroyed.",
	TypeRemoteUsage:          "The bytes xbr holds on one remote (and the space free, where known), measured after a run that wrote to or pruned it.",
	TypeHealthCheckFailed:    "The backup did not prove it boots (timeout, guest-failure, boot-failed, restore-failed); the test VM was destroyed.",
}
