package snapshot

import (
	"fmt"
	"time"
)

// Xen Orchestra's other_config keys on a backup snapshot VM and its disks
// (@xen-orchestra/backups/_otherConfig.mjs).
const (
	KeyJob      = "xo:backup:job"
	KeySchedule = "xo:backup:schedule"
	KeyVM       = "xo:backup:vm"
	KeyDatetime = "xo:backup:datetime"
	// KeyRun is xbr's own key: the run that took the snapshot (as the
	// export function writes it on its temporary snapshots).
	KeyRun = "xbr:backup:run"
)

// TempName is the name a snapshot has until it is stamped and renamed.
const TempName = "xo-backup-temp-snapshot-name"

// DatetimeLayout is XO's formatDateTime: "%Y%m%dT%H:%M:%SZ" in UTC (note the
// colons, unlike the file names of backups).
const DatetimeLayout = "20060102T15:04:05Z"

// FormatDatetime is t as the value of xo:backup:datetime.
func FormatDatetime(t time.Time) string { return t.UTC().Format(DatetimeLayout) }

// NameLabel is the name XO gives a backup snapshot:
// "[XO Backup <job>] <vm name>".
func NameLabel(job, vmName string) string {
	return fmt.Sprintf("[XO Backup %s] %s", job, vmName)
}

// OtherConfig are the keys stamped on a snapshot of vmUUID taken at t by a
// run of a job's schedule: exactly the keys the export function puts on its
// snapshots.
func OtherConfig(job, schedule, vmUUID, runID string, t time.Time) map[string]string {
	return map[string]string{
		KeyJob: job, KeySchedule: schedule, KeyVM: vmUUID, KeyDatetime: FormatDatetime(t), KeyRun: runID,
	}
}

// keyOrder is the order keys are written in (a map has none).
var keyOrder = []string{KeyJob, KeySchedule, KeyVM, KeyDatetime, KeyRun}
