package incremental

import (
	"context"
	"fmt"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/runs"
)

// NewPlanner returns the planner handler: it turns an incremental job's
// schedule.due into a run (see the package doc).
func NewPlanner(d Deps) *runs.Planner { return runs.NewPlanner(d.withDefaults().flow()) }

// NewRunner returns the runner handler: it advances runs as their VMs end.
func NewRunner(d Deps) *runs.Runner { return runs.NewRunner(d.withDefaults().flow()) }

// NewWorker returns the worker handler as the skeleton runs it (a VM it
// could not back up by the request's last delivery is reported failed).
func NewWorker(d Deps) bus.Handler { return d.withDefaults().flow().Worker(newWorker(d)) }

// flow is the function's declaration in the run skeleton: a VM's work is an
// incremental.requested and ends in an incremental.completed or failed.
func (d Deps) flow() runs.Flow {
	return runs.Flow{Runs: d.Runs, Config: d.Config, Subjects: d.Subjects,
		Topics: runs.Topics{Function: Name, Mode: config.ModeIncremental, Request: events.TypeIncrementalRequested,
			Ends: []events.Type{events.TypeIncrementalCompleted, events.TypeIncrementalFailed}},
		Work: "incremental backup", Log: d.Log, Message: d.message, Resolve: d.resolve, Request: d.requestOut,
		Result: result, Failed: d.lastFailed}
}

// resolve lists the VMs of the job's pools and selects the job's.
func (d Deps) resolve(ctx context.Context, job config.Job) ([]runs.VM, error) {
	return runs.Resolve(ctx, d.Pools, job)
}

// result turns incremental.completed|failed into the VM's result in its run.
func result(ev bus.Event) (events.VMResult, string, error) {
	switch p := ev.Payload.(type) {
	case events.IncrementalCompleted:
		r := events.VMResult{VMUUID: p.VMUUID, VMName: p.VMName, Status: events.StatusSuccess, Size: p.BytesStored}
		if len(p.Backups) > 0 {
			r.BackupID = p.Backups[0].BackupID
		}
		return r, p.RunID, nil
	case events.IncrementalFailed:
		return events.VMResult{VMUUID: p.VMUUID, VMName: p.VMName, Status: events.StatusFailure, Error: p.Error}, p.RunID, nil
	}
	return events.VMResult{}, "", fmt.Errorf("runner: unexpected event type %s", ev.Type())
}
