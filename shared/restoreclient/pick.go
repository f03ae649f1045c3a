package restoreclient

import (
	"errors"
	"time"

	"xbr/shared/catalog"
)

// LatestBackup is the word for a VM's newest backup.
const LatestBackup = "latest"

// ParseBackupTime reads which backup of a VM is meant: LatestBackup (the
// zero time), Xen Orchestra's YYYYMMDDTHHMMSSZ or an RFC 3339 time.
func ParseBackupTime(s string) (time.Time, error) {
	if s == LatestBackup {
		return time.Time{}, nil
	}
	if t, err := catalog.ParseTimestamp(s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil && len(s) <= 40 {
		return t.UTC(), nil
	}
	return time.Time{}, errors.New(`want "latest", YYYYMMDDTHHMMSSZ or an RFC 3339 time`)
}

// Pick is the newest backup of vm (uuid or name) in a newest-first list
// when at is zero, else the one taken at at, to the second. None is a
// *NotFoundError naming the VM or the time.
func Pick(backups []catalog.Backup, vm string, at time.Time) (catalog.Backup, error) {
	if at.IsZero() {
		if b, ok := Latest(backups, vm); ok {
			return b, nil
		}
		return catalog.Backup{}, &NotFoundError{Field: "vm", Value: vm, Problem: "has no backup"}
	}
	if b, ok := At(backups, vm, at); ok {
		return b, nil
	}
	return catalog.Backup{}, &NotFoundError{Field: "backup", Value: catalog.FormatTimestamp(at),
		Problem: "no backup of " + vm + " was taken at that time"}
}
