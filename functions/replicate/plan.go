package replicate

import (
	"context"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/runs"
	"xbr/shared/xapi"
)

// NewPlanner returns the planner handler: it admits a replicate job's fire
// (one run per job at a time), selects the VMs and returns run.started and
// the first <concurrency> replicate.started; fires of other modes are
// ignored.
func NewPlanner(d Deps) *runs.Planner { return runs.NewPlanner(d.withDefaults().flow()) }

// NewRunner returns the runner handler: it records one VM's end and returns
// the next VM's work item and, after the last VM, run.completed.
func NewRunner(d Deps) *runs.Runner { return runs.NewRunner(d.withDefaults().flow()) }

// flow is what replicate plugs into the shared planner and runner.
func (d Deps) flow() runs.Flow {
	return runs.Flow{Runs: d.Runs, Config: d.Config, Subjects: d.Subjects, Topics: topics,
		Mode: config.ModeReplicate, Work: "replication", Log: d.Log,
		Message: func(id string, p events.Payload) (bus.Out, error) { return d.message(id, d.Now(), p) },
		Resolve: d.resolve, Request: d.startedOut, Result: result, Failed: d.lastFailed}
}

// topics are replicate's: a VM's work is a replicate.started and ends in a
// replicate.completed or replicate.failed.
var topics = runs.Topics{Function: Name, Request: events.TypeReplicateStarted,
	Ends: []events.Type{events.TypeReplicateCompleted, events.TypeReplicateFailed}}

// NewWorker returns the worker handler as the skeleton runs it: on a work
// item's last delivery, a VM it could not replicate is reported failed.
func NewWorker(d Deps) bus.Handler {
	d = d.withDefaults()
	return d.flow().Worker(newWorker(d))
}

// resolve selects the job's VMs on its pools. The job's own copies (a
// standby pool that is also a source) are never replicated again.
func (d Deps) resolve(ctx context.Context, job config.Job) ([]runs.VM, error) {
	return runs.Resolve(ctx, d.Pools, job, withoutCopies)
}

// withoutCopies drops start-blocked copies (standby or interrupted), as Xen
// Orchestra does; a copy that was failed over is a production VM again and
// can be replicated back (fail back).
func withoutCopies(vms map[xapi.VMRef]xapi.VM) map[xapi.VMRef]xapi.VM {
	out := make(map[xapi.VMRef]xapi.VM, len(vms))
	for ref, vm := range vms {
		if cp, isCopy := copyOf(ref, vm); !isCopy || !cp.StartBlocked {
			out[ref] = vm
		}
	}
	return out
}
