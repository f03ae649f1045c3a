package xotag

import (
	"fmt"
	"time"
)

// Xen Orchestra's other_config keys (@xen-orchestra/backups/_otherConfig.mjs)
// and xbr's own.
const (
	KeyJob      = "xo:backup:job"      // the job's id (a UUID; its name before xbr wrote ids)
	KeySchedule = "xo:backup:schedule" // the schedule's id (likewise)
	KeyVM       = "xo:backup:vm"       // the source VM's uuid
	KeyDatetime = "xo:backup:datetime" // when the snapshot was taken, DatetimeLayout
	// KeySR is, on a replicated copy, the target SR's uuid, written once
	// the transfer completed: a copy without it is an interrupted transfer.
	KeySR = "xo:backup:sr"
	// KeyCopyOf names the source of a copied VM or disk.
	KeyCopyOf = "xo:copy_of"
	// KeyRun is xbr's key: the run that took the snapshot or made the copy.
	KeyRun = "xbr:backup:run"
	// KeyJobName and KeyScheduleName are xbr's keys on a replicated copy:
	// the names of the job and schedule whose ids xo:backup:job and
	// xo:backup:schedule hold, as they were when the copy was made.
	KeyJobName      = "xbr:backup:job_name"
	KeyScheduleName = "xbr:backup:schedule_name"
	// KeyRestoreRequest is the other_config key holding the request id of
	// the restore that made a VM (functions/restore writes it; a health
	// check finds its test VM by it).
	KeyRestoreRequest = "xbr:restore:request"
	// TagHealthCheck marks a health check's throw-away test VM, so a sweep
	// finds the ones a crash left behind; KeyHealthCheckAlive and
	// KeyHealthCheckAliveAlt on it, the newer of the two, are when its
	// check last showed it is still running (RFC 3339, UTC). The check
	// renews them in turn: XAPI cannot overwrite a key, only remove and
	// add it again, and the other key stays meanwhile. Versions before the
	// second key wrote KeyHealthCheckAlive alone.
	TagHealthCheck         = "xbr:healthcheck"
	KeyHealthCheckAlive    = "xbr:healthcheck:alive"
	KeyHealthCheckAliveAlt = "xbr:healthcheck:alive:alt"
	// KeyHealthCheckRequest, KeyHealthCheckJob and KeyHealthCheckVM say on
	// a test VM which check made it, for which job and source VM.
	KeyHealthCheckRequest = "xbr:healthcheck:request"
	KeyHealthCheckJob     = "xbr:healthcheck:job"
	KeyHealthCheckVM      = "xbr:healthcheck:vm"
)

// TempSnapshotName is a snapshot's name until its keys are written and it
// is renamed; a snapshot still so named is a leftover of a crash.
const TempSnapshotName = "xo-backup-temp-snapshot-name"

// Layouts of the time stamps.
const (
	// DatetimeLayout is xo:backup:datetime's: XO's formatDateTime,
	// "%Y%m%dT%H:%M:%SZ" in UTC (note the colons).
	DatetimeLayout = "20060102T15:04:05Z"
	// StampLayout is the file-name form of backups (and copy names).
	StampLayout = "20060102T150405Z"
)

// FormatDatetime is t as the value of xo:backup:datetime.
func FormatDatetime(t time.Time) string { return t.UTC().Format(DatetimeLayout) }

// ParseDatetime reads an xo:backup:datetime value, "20231012T10:11:12Z", or
// the file-name form "20231012T101112Z", strictly (time.Parse alone would
// also take fractional seconds). The error names the key and the value.
func ParseDatetime(s string) (time.Time, error) {
	for _, layout := range []string{DatetimeLayout, StampLayout} {
		if t, err := time.Parse(layout, s); err == nil && t.Format(layout) == s {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q: want YYYYMMDDTHH:MM:SSZ", KeyDatetime, s)
}

// NameLabel is the name XO gives a backup snapshot: "[XO Backup <job>] <vm>".
func NameLabel(job, vmName string) string {
	return fmt.Sprintf("[XO Backup %s] %s", job, vmName)
}

// KV is one other_config entry.
type KV struct{ Key, Value string }

// Keys are the keys stamped on a snapshot of vmUUID taken at t by a run of a
// job's schedule, in the order they are written (job first, the run last;
// no run key when runID is "").
func Keys(job, schedule, vmUUID, runID string, t time.Time) []KV {
	kv := []KV{{KeyJob, job}, {KeySchedule, schedule}, {KeyVM, vmUUID}, {KeyDatetime, FormatDatetime(t)}}
	if runID != "" {
		kv = append(kv, KV{KeyRun, runID})
	}
	return kv
}

// KeyNames are the keys Keys writes, in its order.
func KeyNames() []string { return []string{KeyJob, KeySchedule, KeyVM, KeyDatetime, KeyRun} }

// OtherConfig is Keys as a map.
func OtherConfig(job, schedule, vmUUID, runID string, t time.Time) map[string]string {
	kv := Keys(job, schedule, vmUUID, runID, t)
	m := make(map[string]string, len(kv))
	for _, e := range kv {
		m[e.Key] = e.Value
	}
	return m
}

// ReplicaCopy reports whether a VM (its uuid, other_config and
// blocked_operations) is a copy a replication made: its keys name a job and
// another VM, and start is blocked (standby, or an import cut short) or its
// transfer completed (KeySR: a copy that was failed over keeps it).
func ReplicaCopy(uuid string, otherConfig, blockedOperations map[string]string) bool {
	_, blocked := blockedOperations["start"]
	_, complete := otherConfig[KeySR]
	return otherConfig[KeyJob] != "" && otherConfig[KeyVM] != "" && otherConfig[KeyVM] != uuid && (blocked || complete)
}

// StandbyCopy reports whether a VM is a replication's standby copy: a
// ReplicaCopy whose start is blocked. A copy that was failed over (start
// unblocked) is a VM again.
func StandbyCopy(uuid string, otherConfig, blockedOperations map[string]string) bool {
	_, blocked := blockedOperations["start"]
	return blocked && ReplicaCopy(uuid, otherConfig, blockedOperations)
}
