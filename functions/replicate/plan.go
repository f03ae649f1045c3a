package replicate

import (
	"context"
	"errors"
	"fmt"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/runs"
	"xbr/shared/vmselect"
	"xbr/shared/xapi"
)

// Planner turns a replicate job's schedule.due into a run.
type Planner struct{ d Deps }

// NewPlanner returns the planner handler.
func NewPlanner(d Deps) *Planner { return &Planner{d: d.withDefaults()} }

// Handle admits the fire (one run per job at a time), selects the VMs and
// returns run.started and the first <concurrency> replicate.started; fires
// of other modes are ignored.
func (p *Planner) Handle(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	due, err := events.PayloadAs[events.ScheduleDue](ev.Received)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	job, ok := p.d.Config.Job(due.Job)
	if !ok {
		return nil, bus.Permanent(fmt.Errorf("schedule.due for unknown job %q", due.Job))
	}
	if job.Mode != config.ModeReplicate {
		return nil, nil // another function's job
	}
	if _, ok := job.Schedule(due.Schedule); !ok {
		return nil, bus.Permanent(fmt.Errorf("job %s has no schedule %q", due.Job, due.Schedule))
	}
	f := runs.Fire{RunID: due.RunID, Job: job.Name, Schedule: due.Schedule, Mode: events.ModeReplicate,
		FireTime: due.FireTime, OnOverlap: job.OnOverlap}
	adm, err := p.d.Runs.Admit(ctx, f)
	if err != nil {
		var busy *runs.BusyError
		if errors.As(err, &busy) {
			p.d.Log.Info("fire queued behind the running run", "job", job.Name, "run", f.RunID, "holder", busy.Holder)
		}
		return nil, err
	}
	var outs []bus.Out
	if adm.Interrupted != nil {
		p.d.Log.Warn("stale run ended as interrupted", "job", job.Name, "run", adm.Interrupted.ID)
		o, err := p.d.completedOut(*adm.Interrupted)
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	r := adm.Run
	if r == nil {
		started, err := p.start(ctx, ev, f, job)
		if err != nil {
			return nil, err
		}
		r = &started
	}
	more, err := p.d.announce(job, *r)
	return append(outs, more...), err
}

// start selects the VMs and records the run; after planAttempts failed
// deliveries the run is recorded failed instead.
func (p *Planner) start(ctx context.Context, ev bus.Event, f runs.Fire, job config.Job) (runs.Run, error) {
	vms, err := p.resolve(ctx, job)
	if err != nil {
		if ev.Delivery.Attempt < planAttempts {
			return runs.Run{}, fmt.Errorf("job %s: %w", job.Name, err)
		}
		return p.d.Runs.End(ctx, f, events.StatusFailure, err.Error())
	}
	return p.d.Runs.Start(ctx, f, job.Concurrency, vms)
}

// resolve selects the job's VMs on its pools. The job's own copies (a
// standby pool that is also a source) are never replicated again.
func (p *Planner) resolve(ctx context.Context, job config.Job) ([]runs.VM, error) {
	var pools []vmselect.Pool
	for _, name := range job.Pools {
		c, err := p.d.Pools.Client(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("resolve VMs: %w", err)
		}
		recs, err := c.VMs(ctx)
		if err != nil {
			return nil, fmt.Errorf("resolve VMs: pool %s: %w", name, err)
		}
		pools = append(pools, vmselect.Pool{Name: name, VMs: withoutCopies(recs)})
	}
	sel := vmselect.Select(job.VMs, pools)
	var out []runs.VM
	for _, v := range sel.VMs {
		out = append(out, runs.VM{UUID: v.UUID, Name: v.Name, Pool: v.Pool})
	}
	for _, rej := range sel.Rejected {
		status, pool := events.StatusSkipped, rej.Pool
		if pool == "" {
			status, pool = events.StatusFailure, "unknown"
		}
		out = append(out, runs.VM{UUID: rej.UUID, Name: rej.Name, Pool: pool,
			Result: &events.VMResult{VMUUID: rej.UUID, VMName: rej.Name, Status: status, Error: "VM " + rej.Reason}})
	}
	return out, nil
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

// announce returns what a recorded run says to publish: run.started and the
// work items of its first VMs while it runs, run.completed once it is done.
// Ids are derived, so announcing again publishes nothing new.
func (d Deps) announce(job config.Job, r runs.Run) ([]bus.Out, error) {
	var outs []bus.Out
	if len(r.VMs) > 0 {
		o, err := d.message(events.DeriveID("run.started", r.ID), d.Now(), r.StartedEvent())
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	for _, vm := range r.Initial() {
		if vm.State != runs.VMActive {
			continue
		}
		o, err := d.startedOut(job, r, vm)
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	if r.Done() {
		o, err := d.completedOut(r)
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	return outs, nil
}
