package export

import (
	"fmt"

	"xbr/events"
	"xbr/shared/bus"
)

// result turns export.completed|failed into the VM's result in its run.
func result(ev bus.Event) (events.VMResult, string, error) {
	switch p := ev.Payload.(type) {
	case events.ExportCompleted:
		r := events.VMResult{VMUUID: p.VMUUID, VMName: p.VMName, Status: events.StatusSuccess, Size: p.Size}
		if len(p.Backups) > 0 {
			r.BackupID = p.Backups[0].BackupID
		}
		return r, p.RunID, nil
	case events.ExportFailed:
		return events.VMResult{VMUUID: p.VMUUID, VMName: p.VMName, Status: events.StatusFailure, Error: p.Error}, p.RunID, nil
	}
	return events.VMResult{}, "", fmt.Errorf("runner: unexpected event type %s", ev.Type())
}
