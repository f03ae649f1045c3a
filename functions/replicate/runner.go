package replicate

import (
	"fmt"

	"xbr/events"
	"xbr/shared/bus"
)

// result turns replicate.completed|failed into the VM's result in its run.
func result(ev bus.Event) (events.VMResult, string, error) {
	switch p := ev.Payload.(type) {
	case events.ReplicateCompleted:
		return events.VMResult{VMUUID: p.VMUUID, VMName: p.VMName, Status: events.StatusSuccess, Size: p.Bytes}, p.RunID, nil
	case events.ReplicateFailed:
		return events.VMResult{VMUUID: p.VMUUID, VMName: p.VMName, Status: events.StatusFailure, Error: p.Error}, p.RunID, nil
	}
	return events.VMResult{}, "", fmt.Errorf("runner: unexpected event type %s", ev.Type())
}
