package replicate

import (
	"context"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/runs"
)

// NewPlanner returns the planner handler: it admits a replicate job's fire
// (one run per job at a time), selects the VMs and returns run.started and
// the first <concurrency> replicate.requested; its consumer reads the fires
// of replicate jobs only.
func NewPlanner(d Deps) *runs.Planner { return runs.NewPlanner(d.withDefaults().flow()) }

// NewRunner returns the runner handler: it records one VM's end and returns
// the next VM's work item and, after the last VM, run.completed.
func NewRunner(d Deps) *runs.Runner { return runs.NewRunner(d.withDefaults().flow()) }

// flow is replicate's declaration in the run skeleton: a VM's work is a
// replicate.requested and ends in a replicate.completed or replicate.failed.
func (d Deps) flow() runs.Flow {
	message := func(id string, p events.Payload) (bus.Out, error) { return d.message(id, d.Now(), p) }
	return runs.Flow{Runs: d.Runs, Config: d.Config, Subjects: d.Subjects,
		Topics: runs.Topics{Function: Name, Mode: config.ModeReplicate, Request: events.TypeReplicateRequested,
			Ends: []events.Type{events.TypeReplicateCompleted, events.TypeReplicateFailed}},
		Work: "replication", Log: d.Log, Message: message, Resolve: d.resolve, Request: d.requestOut,
		Result: result, Failed: d.lastFailed}
}

// NewWorker returns the worker handler as the skeleton runs it (a VM it
// could not replicate by the work item's last delivery is reported failed).
func NewWorker(d Deps) bus.Handler { return d.withDefaults().flow().Worker(newWorker(d)) }

// resolve selects the job's VMs on its pools. Standby copies (a standby
// pool that is also a source) are never selected (shared/vmselect): a copy
// is not replicated again, as in Xen Orchestra; a copy that was failed over
// is a production VM again and can be replicated back (fail back).
func (d Deps) resolve(ctx context.Context, job config.Job) ([]runs.VM, error) {
	return runs.Resolve(ctx, d.Pools, job)
}
