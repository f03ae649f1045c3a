package snapshot

import (
	"context"
	"fmt"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/runs"
	"xbr/shared/vmselect"
)

// plan admits a fire of a snapshot job, selects its VMs, records the run and
// returns run.started, the first snapshot.requested events and, when the run
// has nothing to do, run.completed. A redelivered fire returns the same
// events; a fire that keeps failing is given up (runs.GivesUp).
func (s *Snapshotter) plan(ctx context.Context, d bus.Delivery, p events.ScheduleDue) ([]bus.Out, error) {
	job, ok := s.job(p.Job)
	if !ok || job.Mode != config.ModeSnapshot {
		return nil, nil // not ours: the export (or another) function plans it
	}
	sched, ok := job.Schedule(p.Schedule)
	if !ok {
		return nil, bus.Permanent(fmt.Errorf("job %s has no schedule %q", p.Job, p.Schedule))
	}
	f := runs.Fire{RunID: p.RunID, Job: p.Job, Schedule: p.Schedule, Mode: config.ModeSnapshot,
		FireTime: p.FireTime, OnOverlap: job.OnOverlap}
	outs, err := s.planRun(ctx, d, f, job, sched)
	if runs.GivesUp(ctx, d, err) {
		s.log.Error("fire given up: its run ends as a failure", bus.KeyFunction, Name, "job", f.Job, "run", f.RunID, "error", err)
		return runs.GiveUpFire(ctx, s.runs, s.message, f, d, err)
	}
	return outs, err
}

func (s *Snapshotter) planRun(ctx context.Context, d bus.Delivery, f runs.Fire, job config.Job, sched config.Schedule) ([]bus.Out, error) {
	adm, err := s.runs.Admit(ctx, f)
	if err != nil {
		return nil, err // a queued fire of a running job is redelivered later
	}
	var outs []bus.Out
	if adm.Interrupted != nil {
		if outs, err = s.appendCompleted(outs, *adm.Interrupted); err != nil {
			return nil, err
		}
	}
	r := adm.Run
	if r == nil {
		started, err := s.start(ctx, d, f, job)
		if err != nil {
			return nil, err
		}
		r = &started
	}
	more, err := s.runEvents(*r, int64(sched.SnapshotRetention))
	return append(outs, more...), err
}

// start selects the VMs and records the run; on the fire's last try
// (runs.PlanAttempts deliveries, or its last delivery) the run ends as a
// failure instead (the lock is released).
func (s *Snapshotter) start(ctx context.Context, d bus.Delivery, f runs.Fire, job config.Job) (runs.Run, error) {
	vms, err := s.selectVMs(ctx, job)
	if err != nil {
		if d.Attempt < runs.PlanAttempts && !d.Last() {
			return runs.Run{}, fmt.Errorf("job %s: %w", job.Name, err)
		}
		return s.runs.End(ctx, f, events.StatusFailure, events.Reason(fmt.Errorf("select VMs: %w", err)))
	}
	return s.runs.Start(ctx, f, job.Concurrency, vms)
}

// selectVMs reads the VMs of the job's pools and applies its selection. A VM
// listed by uuid that cannot be snapshotted is skipped, one that does not
// exist fails (the same results as export's planner).
func (s *Snapshotter) selectVMs(ctx context.Context, job config.Job) ([]runs.VM, error) {
	var pools []vmselect.Pool
	for _, name := range job.Pools {
		c, err := s.pools.Client(ctx, name)
		if err != nil {
			return nil, err
		}
		vms, err := c.CachedVMs(ctx)
		if err != nil {
			return nil, fmt.Errorf("pool %s: list VMs: %w", name, err)
		}
		pools = append(pools, vmselect.Pool{Name: name, VMs: vms})
	}
	return runs.Selected(vmselect.Select(job.VMs, pools)), nil
}

// runEvents are the events a recorded run stands for: run.started and the
// requests of its first VMs (unless it ended without starting), and
// run.completed once it is done.
func (s *Snapshotter) runEvents(r runs.Run, retention int64) ([]bus.Out, error) {
	var outs []bus.Out
	if len(r.VMs) > 0 {
		o, err := s.message(events.DeriveID("run.started", r.ID), r.StartedEvent())
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
		if outs, err = s.appendRequests(outs, r, active(r.Initial()), retention); err != nil {
			return nil, err
		}
	}
	if r.Done() {
		return s.appendCompleted(outs, r)
	}
	return outs, nil
}

func (s *Snapshotter) appendRequests(outs []bus.Out, r runs.Run, vms []runs.VM, retention int64) ([]bus.Out, error) {
	for _, v := range vms {
		o, err := s.message(events.DeriveID("snapshot.requested", r.ID, v.UUID), events.SnapshotRequested{
			RunID: r.ID, Job: r.Job, Schedule: r.Schedule, FireTime: r.FireTime,
			VMUUID: v.UUID, VMName: v.Name, Pool: v.Pool, Retention: retention})
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	return outs, nil
}

func (s *Snapshotter) appendCompleted(outs []bus.Out, r runs.Run) ([]bus.Out, error) {
	o, err := s.message(events.DeriveID("run.completed", r.ID), r.CompletedEvent())
	if err != nil {
		return nil, err
	}
	return append(outs, o), nil
}

// active keeps the VMs whose request is still outstanding.
func active(vms []runs.VM) []runs.VM {
	var out []runs.VM
	for _, v := range vms {
		if v.State == runs.VMActive {
			out = append(out, v)
		}
	}
	return out
}
