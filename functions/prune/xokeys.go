package prune

import (
	"fmt"
	"time"
)

// Xen Orchestra's other_config keys of backup snapshots, as the snapshot and
// export functions write them (xen-orchestra-backups.md §3.2). A test checks
// that they match the snapshot function's.
const (
	keyJob      = "xo:backup:job"
	keySchedule = "xo:backup:schedule"
	keyVM       = "xo:backup:vm"
	keyDatetime = "xo:backup:datetime"
	keyCopyOf   = "xo:copy_of"
	// TempSnapshotName is the name of a snapshot not yet stamped.
	TempSnapshotName = "xo-backup-temp-snapshot-name"
)

// parseDatetime reads xo:backup:datetime: XO's "20231012T10:11:12Z", or the
// file-name form "20231012T101112Z", strictly (time.Parse alone would also
// take fractional seconds).
func parseDatetime(s string) (time.Time, error) {
	for _, layout := range []string{"20060102T15:04:05Z", "20060102T150405Z"} {
		if t, err := time.Parse(layout, s); err == nil && t.Format(layout) == s {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q: want YYYYMMDDTHH:MM:SSZ", keyDatetime, s)
}
