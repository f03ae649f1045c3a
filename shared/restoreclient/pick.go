package restoreclient

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
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

// Pick is the newest backup of vm (uuid or name) in a newest-first listing
// when at is zero, else the one taken at at, to the second. None is a
// *NotFoundError naming the VM or the time, and the listing's problems.
//
// A listing with problems has no newest backup to give: a remote, a
// repository or a backup that could not be read may hold a newer one than
// those listed, so Pick refuses with an *IncompleteError instead of picking
// an older backup silently, unless every problem names a backup older than
// the newest listed. A backup chosen by its time is still picked.
//
// A name that designates one VM among the listing (ByVM) selects among that
// VM's backups, whatever name each recorded: a VM renamed between two
// backups is still one VM.
func Pick(l Listing, vm string, at time.Time) (catalog.Backup, error) {
	match := vm
	if bs, err := ByVM(l.Backups, vm); err == nil && len(bs) > 0 {
		match = bs[0].VMUUID
	}
	if at.IsZero() {
		b, ok := Latest(l.Backups, match)
		if hiding := mayHideNewer(l.Problems, b, ok); len(hiding) > 0 {
			return catalog.Backup{}, &IncompleteError{VM: vm, Problems: hiding}
		}
		if ok {
			return b, nil
		}
		return catalog.Backup{}, &NotFoundError{Field: "vm", Value: vm, Problem: "has no backup"}
	}
	if b, ok := At(l.Backups, match, at); ok {
		return b, nil
	}
	problem := "no backup of " + vm + " was taken at that time"
	if len(l.Problems) > 0 {
		problem += " among those listed; not listed: " + someProblems(l.Problems)
	}
	return catalog.Backup{}, &NotFoundError{Field: "backup", Value: catalog.FormatTimestamp(at), Problem: problem}
}

// problemTime finds the time of the one backup a problem is about: a full
// backup's "<remote>: <folder>/<YYYYMMDDTHHMMSSZ>.json: <error>" or a
// restore point's "<remote>: restore point <vm>/<YYYYMMDDTHHMMSSZ>: <error>".
// A remote or a repository not listed ("<remote>: remote not listed: …")
// names none, whatever its error text holds.
var problemTime = regexp.MustCompile(`^[^ :]+: (?:[^ :]+/|restore point [0-9a-fA-F-]+/)([0-9]{8}T[0-9]{6}Z)(?:\.json)?: `)

// mayHideNewer are the problems that may hide a backup newer than newest (ok: there is
// one): all of them, but those naming a backup older than newest.
func mayHideNewer(problems []string, newest catalog.Backup, ok bool) []string {
	var out []string
	for _, p := range problems {
		if m := problemTime.FindStringSubmatch(p); ok && m != nil {
			if t, err := catalog.ParseTimestamp(m[1]); err == nil && t.Before(newest.Timestamp) {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// IncompleteError is Pick's refusal to name the newest backup of VM from a
// listing with Problems.
type IncompleteError struct {
	VM       string
	Problems []string
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("vm %q: which backup is the newest is not known, as not all could be listed (%s): "+
		"choose the backup by its backup id or by its time", e.VM, someProblems(e.Problems))
}

// someProblems joins the first few problems of a listing, and counts the rest.
func someProblems(ps []string) string {
	const shown = 3
	if len(ps) <= shown {
		return strings.Join(ps, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(ps[:shown], "; "), len(ps)-shown)
}
