package runs

import (
	"context"
	"errors"
	"fmt"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/vmselect"
	"xbr/shared/xapi"
)

// Planner turns a schedule.due of one of a flow's jobs into a run.
type Planner struct{ f Flow }

// NewPlanner returns the planner handler of f.
func NewPlanner(f Flow) *Planner { return &Planner{f: f} }

// Handle admits the fire (one run per job at a time), resolves its VMs,
// records the run and returns run.started and the first requests (or
// run.completed). Its consumer reads the fires of the flow's mode only (see
// Mine); a redelivered fire returns the same events. A fire that keeps
// failing once admitted is given up (GivesUp): a run not started yet ends
// as a failure and the fire goes to the DLQ; a started one is announced
// again (see giveUp).
func (p *Planner) Handle(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	due, err := events.PayloadAs[events.ScheduleDue](ev.Received)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	job, mine, err := Mine(p.f.Config, p.f.Topics.Mode, due)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	if !mine {
		return nil, nil
	}
	if _, ok := job.Schedule(due.Schedule); !ok {
		return nil, bus.Permanent(fmt.Errorf("job %s has no schedule %q", due.Job, due.Schedule))
	}
	f := Fire{RunID: due.RunID, Job: job.Name, Schedule: due.Schedule, Mode: p.f.Topics.Mode,
		FireTime: due.FireTime, OnOverlap: job.OnOverlap, Delivery: ev.Delivery.Attempt}
	if why := p.f.Config.DisabledFire(due); why != "" {
		return p.skip(ctx, job, f, why)
	}
	outs, tries, err := p.plan(ctx, ev.Delivery, f, job)
	if busy := (*BusyError)(nil); errors.As(err, &busy) && ev.Delivery.Last() && ctx.Err() == nil {
		// Queued behind a running run until its last delivery: the bus would dead-letter it
		// with no outcome. It is skipped, as on_overlap: skip would have.
		return p.skip(ctx, job, f, fmt.Sprintf("still queued behind run %s at its last delivery (%d)", busy.Holder, ev.Delivery.Max))
	}
	if GivesUp(ctx, ev.Delivery, tries, err) {
		return p.giveUp(ctx, job, f, ev.Delivery, err)
	}
	return outs, err
}

// skip records fire f's run as skipped for reason (a redelivery finds it recorded and
// announces it again) and returns its events.
func (p *Planner) skip(ctx context.Context, job config.Job, f Fire, reason string) ([]bus.Out, error) {
	r, err := p.f.Runs.Get(ctx, f.RunID)
	if errors.Is(err, ErrNotFound) {
		r, err = p.f.Runs.End(ctx, f, events.StatusSkipped, reason)
	}
	if err != nil {
		return nil, err
	}
	return p.f.Announce(job, r)
}

// Mine returns the job of fire due for the planner of mode, whose consumer
// reads <prefix>.schedule.due.<mode>.> only. What else reaches it is a
// permanent error that says why: a fire of another mode (the filter is
// wrong), of an unknown job, or of a job whose mode is not the one the fire
// names (the configuration changed since). A fire without a mode, stored
// before events contract 2.0.0 and redelivered to every planner since,
// belongs to the planner of its job's mode: the others leave it (false).
func Mine(c *config.Config, mode string, due events.ScheduleDue) (config.Job, bool, error) {
	if due.Mode != "" && due.Mode != mode {
		return config.Job{}, false, fmt.Errorf("schedule.due of mode %q (job %s) reached the planner of mode %q", due.Mode, due.Job, mode)
	}
	job, ok := c.Job(due.Job)
	if !ok {
		return config.Job{}, false, fmt.Errorf("schedule.due for unknown job %q", due.Job)
	}
	switch {
	case job.Mode == mode:
		return job, true, nil
	case due.Mode == "":
		return config.Job{}, false, nil
	}
	return config.Job{}, false, fmt.Errorf("schedule.due of mode %q for job %s, whose mode is now %q", due.Mode, due.Job, job.Mode)
}

// plan admits the fire, starts its run unless one is recorded, and returns
// what the run says to publish and the fire's tries since its admission
// (Admission.Tries; 0 when it was not admitted).
func (p *Planner) plan(ctx context.Context, d bus.Delivery, f Fire, job config.Job) ([]bus.Out, uint64, error) {
	outs, adm, err := p.admit(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	r := adm.Run
	if r == nil {
		started, err := p.start(ctx, d, adm.Tries, f, job)
		if err != nil {
			return nil, adm.Tries, err
		}
		r = &started
	}
	more, err := p.f.Announce(job, *r)
	return append(outs, more...), adm.Tries, err
}

// admit admits the fire; a stale run it took over is returned as its
// run.completed.
func (p *Planner) admit(ctx context.Context, f Fire) ([]bus.Out, Admission, error) {
	adm, err := p.f.Runs.Admit(ctx, f)
	if err != nil {
		var busy *BusyError
		if errors.As(err, &busy) {
			p.f.Log.Info("fire queued behind the running run", "job", f.Job, "run", f.RunID, "holder", busy.Holder)
		}
		return nil, Admission{}, err
	}
	if adm.Interrupted == nil {
		return nil, adm, nil
	}
	p.f.Log.Warn("stale run ended as interrupted", "job", f.Job, "run", adm.Interrupted.ID, "reason", adm.Interrupted.Reason)
	o, err := p.f.Completed(*adm.Interrupted)
	if err != nil {
		return nil, Admission{}, err
	}
	return []bus.Out{o}, adm, nil
}

// start resolves the VMs and records the run; when resolving fails on the
// fire's last try (its PlanAttempts-th since it was admitted, or its last
// delivery) the run is recorded failed instead.
func (p *Planner) start(ctx context.Context, d bus.Delivery, tries uint64, f Fire, job config.Job) (Run, error) {
	vms, err := p.f.Resolve(ctx, job)
	if err != nil {
		if tries < PlanAttempts && !d.Last() {
			return Run{}, fmt.Errorf("job %s: %w", job.Name, err)
		}
		return p.f.Runs.End(ctx, f, events.StatusFailure, events.Reason(err))
	}
	return p.f.Runs.Start(ctx, f, job.Concurrency, vms)
}

// Pools hands out logged-in XAPI clients by pool name (*app.Pools).
type Pools interface {
	Client(ctx context.Context, pool string) (*xapi.Client, error)
}

// Resolve lists the VMs of job's pools and returns job's selection as a
// run's VMs (shared/vmselect: what no job kind ever selects is left out
// there).
func Resolve(ctx context.Context, pools Pools, job config.Job) ([]VM, error) {
	var listed []vmselect.Pool
	for _, name := range job.Pools {
		c, err := pools.Client(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("resolve VMs: %w", err)
		}
		recs, err := c.CachedVMs(ctx)
		if err != nil {
			return nil, fmt.Errorf("resolve VMs: pool %s: %w", name, err)
		}
		listed = append(listed, vmselect.Pool{Name: name, VMs: recs})
	}
	return Selected(vmselect.Select(job.VMs, listed)), nil
}

// Selected are the VMs of a run from a selection: the selected ones to do,
// the rejected ones with their result decided (skipped when the VM exists
// but cannot be done, failed when it does not exist: pool "unknown").
func Selected(sel vmselect.Result) []VM {
	out := make([]VM, 0, len(sel.VMs)+len(sel.Rejected))
	for _, v := range sel.VMs {
		out = append(out, VM{UUID: v.UUID, Name: v.Name, Pool: v.Pool})
	}
	for _, rej := range sel.Rejected {
		status, pool := events.StatusSkipped, rej.Pool
		if pool == "" {
			status, pool = events.StatusFailure, "unknown"
		}
		out = append(out, VM{UUID: rej.UUID, Name: rej.Name, Pool: pool,
			Result: &events.VMResult{VMUUID: rej.UUID, VMName: rej.Name, Status: status, Error: "VM " + rej.Reason}})
	}
	return out
}
