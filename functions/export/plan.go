package export

import (
	"context"
	"errors"
	"fmt"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/runs"
	"xbr/shared/vmselect"
)

// planAttempts is how many deliveries of a fire may fail to resolve its VMs
// before the run is reported failed.
const planAttempts = 5

// Planner turns a full job's schedule.due into a run.
type Planner struct{ d Deps }

// NewPlanner returns the planner handler.
func NewPlanner(d Deps) *Planner { return &Planner{d: d.withDefaults()} }

// Handle plans the run of one fire; see the package doc.
func (p *Planner) Handle(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	due, err := events.PayloadAs[events.ScheduleDue](ev.Received)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	job, ok := p.d.Config.Job(due.Job)
	if !ok {
		return nil, bus.Permanent(fmt.Errorf("schedule.due for unknown job %q", due.Job))
	}
	if job.Mode != config.ModeFull {
		return nil, nil // another function's job
	}
	if _, ok := job.Schedule(due.Schedule); !ok {
		return nil, bus.Permanent(fmt.Errorf("job %s has no schedule %q", due.Job, due.Schedule))
	}
	f := runs.Fire{RunID: due.RunID, Job: job.Name, Schedule: due.Schedule, Mode: events.ModeFull,
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
		p.d.Log.Warn("stale run ended as interrupted", "job", job.Name, "run", adm.Interrupted.ID, "reason", adm.Interrupted.Reason)
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

// start resolves the VMs and records the run; after planAttempts failed
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

// resolve lists the VMs of the job's pools and selects the job's.
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
		pools = append(pools, vmselect.Pool{Name: name, VMs: recs})
	}
	sel := vmselect.Select(job.VMs, pools)
	var out []runs.VM
	for _, v := range sel.VMs {
		out = append(out, runs.VM{UUID: v.UUID, Name: v.Name, Pool: v.Pool})
	}
	for _, rej := range sel.Rejected {
		status := events.StatusSkipped
		if rej.Pool == "" {
			status = events.StatusFailure
		}
		out = append(out, runs.VM{UUID: rej.UUID, Name: rej.Name, Pool: orUnknown(rej.Pool),
			Result: &events.VMResult{VMUUID: rej.UUID, VMName: rej.Name, Status: status, Error: "VM " + rej.Reason}})
	}
	return out, nil
}

func orUnknown(pool string) string {
	if pool == "" {
		return "unknown"
	}
	return pool
}

// announce returns what a recorded run says to publish: run.started and the
// requests of its first VMs while it runs, run.completed once it is done.
// Ids are derived, so announcing again publishes nothing new.
func (d Deps) announce(job config.Job, r runs.Run) ([]bus.Out, error) {
	var outs []bus.Out
	if len(r.VMs) > 0 {
		o, err := d.message(events.DeriveID("run.started", r.ID), r.StartedEvent())
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	for _, vm := range r.Initial() {
		if vm.State != runs.VMActive {
			continue
		}
		o, err := d.requestOut(job, r, vm)
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
