package replicate

import (
	"context"
	"errors"
	"fmt"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/runs"
)

// Runner advances runs as their VMs end.
type Runner struct{ d Deps }

// NewRunner returns the runner handler.
func NewRunner(d Deps) *Runner { return &Runner{d: d.withDefaults()} }

// Handle records one VM's end and returns the next VM's work item and,
// after the last VM, run.completed.
func (h *Runner) Handle(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	res, runID, err := result(ev)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	step, err := h.d.Runs.Finish(ctx, runID, res)
	if errors.Is(err, runs.ErrNotFound) {
		h.d.Log.Info("replication of no recorded run; nothing to advance", "run", runID, "vm_uuid", res.VMUUID)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if step.Late {
		h.d.Log.Warn("result after the run ended; ignored", "run", runID, "vm_uuid", res.VMUUID, "status", step.Run.Status)
		return nil, nil
	}
	job, ok := h.d.Config.Job(step.Run.Job)
	if !ok {
		return nil, bus.Permanent(fmt.Errorf("run %s of unknown job %q", runID, step.Run.Job))
	}
	var outs []bus.Out
	for _, vm := range step.Released {
		o, err := h.d.startedOut(job, step.Run, vm)
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	if step.Done {
		o, err := h.d.completedOut(step.Run)
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	return outs, nil
}

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
