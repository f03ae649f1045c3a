package mirror

import (
	"context"
	"errors"
	"fmt"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/runs"
)

// resolve selects the VMs that have restore points in the job's source
// repository; none when it holds no repository yet.
func (d Deps) resolve(ctx context.Context, job config.Job) ([]runs.VM, error) {
	src, err := d.Repos.Open(ctx, job.Source)
	if errors.Is(err, fn.ErrNoRepository) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("mirror source %s: %w", job.Source, err)
	}
	points, err := src.List(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("mirror source %s: %w", job.Source, err)
	}
	var vms []runs.VM
	for i, p := range points {
		if i == 0 || points[i-1].VM != p.VM { // listed by VM, then time
			vms = append(vms, runs.VM{UUID: p.VM, Pool: job.Source})
		}
	}
	return vms, nil
}

// request is the mirror.requested of vm, one of run r's VMs.
func (d Deps) request(job config.Job, r runs.Run, vm runs.VM) (bus.Out, error) {
	sched, _ := job.Schedule(r.Schedule)
	return d.message(events.DeriveID("mirror.requested", r.ID, vm.UUID), events.MirrorRequested{
		RunID: r.ID, Job: r.Job, Schedule: r.Schedule, FireTime: r.FireTime, VMUUID: vm.UUID,
		Source: job.Source, Targets: job.Remotes, Retention: int64(sched.Retention)})
}

// result turns mirror.completed|failed into the VM's result in its run; its
// size is the stored bytes copied.
func result(ev bus.Event) (events.VMResult, string, error) {
	switch p := ev.Payload.(type) {
	case events.MirrorCompleted:
		var n int64
		for _, t := range p.Targets {
			n += t.BytesCopied
		}
		return events.VMResult{VMUUID: p.VMUUID, Status: events.StatusSuccess, Size: n}, p.RunID, nil
	case events.MirrorFailed:
		return events.VMResult{VMUUID: p.VMUUID, Status: events.StatusFailure, Error: p.Error}, p.RunID, nil
	}
	return events.VMResult{}, "", fmt.Errorf("runner: unexpected event type %s", ev.Type())
}

// lastFailed reports the VM of request ev as failed with err, the error of
// its last delivery.
func (d Deps) lastFailed(_ context.Context, ev bus.Event, err error) ([]bus.Out, error) {
	p, perr := events.PayloadAs[events.MirrorRequested](ev.Received)
	if perr != nil {
		return nil, bus.Permanent(perr)
	}
	out, merr := d.failed(p, nil, err)
	if merr != nil {
		return nil, merr
	}
	return []bus.Out{out}, nil
}

func (d Deps) failed(p events.MirrorRequested, done []events.MirrorTarget, err error) (bus.Out, error) {
	return d.message(events.DeriveID("mirror.failed", p.RunID, p.VMUUID), events.MirrorFailed{RunID: p.RunID,
		Job: p.Job, Schedule: p.Schedule, VMUUID: p.VMUUID, Source: p.Source, Error: events.Reason(err), Targets: done})
}
