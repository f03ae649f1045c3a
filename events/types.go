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
	TypeReplicateStarted   Type = "xbr.replicate.started"
	TypeReplicateProgress  Type = "xbr.replicate.progress"
	TypeReplicateCompleted Type = "xbr.replicate.completed"
	TypeReplicateFailed    Type = "xbr.replicate.failed"
	TypeVerifyCompleted    Type = "xbr.verify.completed"
	TypeVerifyFailed       Type = "xbr.verify.failed"
	TypeFailoverRequested  Type = "xbr.failover.requested"
	TypeFailoverCompleted  Type = "xbr.failover.completed"
	TypeFailoverFailed     Type = "xbr.failover.failed"
)

// Types returns every type of the contract, in a stable order.
func Types() []Type {
	return []Type{
		TypeScheduleDue, TypeRunStarted, TypeRunCompleted,
		TypeExportRequested, TypeExportStarted, TypeExportProgress, TypeExportCompleted, TypeExportFailed,
		TypeSnapshotRequested, TypeSnapshotCompleted, TypeSnapshotFailed,
		TypePruneCompleted, TypePruneFailed,
		TypeRestoreRequested, TypeRestoreStarted, TypeRestoreProgress, TypeRestoreCompleted, TypeRestoreFailed,
		TypeReplicateStarted, TypeReplicateProgress, TypeReplicateCompleted, TypeReplicateFailed,
		TypeVerifyCompleted, TypeVerifyFailed,
		TypeFailoverRequested, TypeFailoverCompleted, TypeFailoverFailed,
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
func (t Type) Description() string {
	switch t {
	case TypeScheduleDue:
		return "A schedule of a job fired (by the timer or `xbr run`); starts a run."
	case TypeRunStarted:
		return "A run of a job began; lists the VMs it selected."
	case TypeRunCompleted:
		return "A run ended: success, failure, partial or skipped, with per-VM results."
	case TypeExportRequested:
		return "Back up one VM of a run to every remote of the job (one per VM)."
	case TypeExportStarted:
		return "The export worker took the VM and is snapshotting/streaming it."
	case TypeExportProgress:
		return "Bytes streamed so far, rate and ETA of one VM's export (every few seconds)."
	case TypeExportCompleted:
		return "One VM's backup is committed on every remote (size, SHA-256, codec, duration)."
	case TypeExportFailed:
		return "One VM's backup failed; no backup was committed and the snapshot was removed."
	case TypeSnapshotRequested:
		return "Take a rolling snapshot of one VM."
	case TypeSnapshotCompleted:
		return "A rolling snapshot of one VM was taken."
	case TypeSnapshotFailed:
		return "A rolling snapshot of one VM failed."
	case TypePruneCompleted:
		return "Backups or snapshots beyond the retention depth were deleted (what and why)."
	case TypePruneFailed:
		return "Pruning failed; nothing beyond what is listed as deleted was removed."
	case TypeRestoreRequested:
		return "Restore a backup to a pool/SR (from the web page, webhook, chat or CLI)."
	case TypeRestoreStarted:
		return "The restore worker began streaming the backup into the target pool."
	case TypeRestoreProgress:
		return "Bytes imported so far, rate and ETA of a restore."
	case TypeRestoreCompleted:
		return "The backup was imported as a new VM (uuid, name, bytes, duration)."
	case TypeRestoreFailed:
		return "The restore failed and left no imported VM behind."
	case TypeReplicateStarted:
		return "Replication of one VM to the standby pool began."
	case TypeReplicateProgress:
		return "Bytes transferred so far, rate and ETA of one VM's replication."
	case TypeReplicateCompleted:
		return "A start-blocked copy of the VM is ready on the standby pool."
	case TypeReplicateFailed:
		return "Replication of one VM failed; the previous copy is kept."
	case TypeVerifyCompleted:
		return "A backup was re-read and matches its SHA-256 (and, deep, every chunk)."
	case TypeVerifyFailed:
		return "A backup failed verification: unreadable, truncated or corrupt."
	case TypeFailoverRequested:
		return "Fail a VM over to a standby copy (from the CLI, web page, webhook or chat), with who asked."
	case TypeFailoverCompleted:
		return "Start is unblocked on the copy (booted if asked); says what was known of the source VM."
	case TypeFailoverFailed:
		return "Nothing was failed over: refused while the source VM runs (unless forced), or an error."
	}
	return ""
}
