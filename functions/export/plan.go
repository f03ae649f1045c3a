package export

import (
	"context"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/runs"
)

// NewPlanner returns the planner handler: it turns a full job's
// schedule.due into a run (see the package doc).
func NewPlanner(d Deps) *runs.Planner { return runs.NewPlanner(d.withDefaults().flow()) }

// NewRunner returns the runner handler: it advances runs as their VMs end.
func NewRunner(d Deps) *runs.Runner { return runs.NewRunner(d.withDefaults().flow()) }

// flow is export's declaration in the run skeleton: a VM's work is an
// export.requested and ends in an export.completed or export.failed.
func (d Deps) flow() runs.Flow {
	return runs.Flow{Runs: d.Runs, Config: d.Config, Subjects: d.Subjects,
		Topics: runs.Topics{Function: Name, Mode: config.ModeFull, Request: events.TypeExportRequested,
			Ends: []events.Type{events.TypeExportCompleted, events.TypeExportFailed}},
		Work: "export", Log: d.Log, Message: d.message, Resolve: d.resolve, Request: d.requestOut,
		Result: result, Failed: d.lastFailed}
}

// NewWorker returns the worker handler as the skeleton runs it (a VM it
// could not export by the request's last delivery is reported failed).
func NewWorker(d Deps) bus.Handler { return d.withDefaults().flow().Worker(newWorker(d)) }

// resolve lists the VMs of the job's pools and selects the job's.
func (d Deps) resolve(ctx context.Context, job config.Job) ([]runs.VM, error) {
	return runs.Resolve(ctx, d.Pools, job)
}
