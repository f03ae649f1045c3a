package snapshot

import (
	"context"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/runs"
)

// failOrRetry returns err for a redelivery while the job's retries last,
// then records the VM as failed. On the request's last delivery the
// skeleton records it failed (lastFailed) instead of a redelivery.
func (s *Snapshotter) failOrRetry(ctx context.Context, d bus.Delivery, p events.SnapshotRequested, v runs.VM, err error) ([]bus.Out, error) {
	if ctx.Err() != nil || v.State == runs.VMDone {
		return nil, err // shutting down, or a redelivery of a recorded success
	}
	allowed := uint64(1)
	if job, ok := s.cfg.Job(p.Job); ok {
		allowed = uint64(job.Retries + 1)
	}
	if d.Attempt < allowed {
		s.log.Warn("snapshot failed; retrying", bus.KeyFunction, Name, "run", p.RunID, "vm_uuid", p.VMUUID, "attempt", d.Attempt, "err", err)
		return nil, err
	}
	return s.finish(ctx, p, taken{}, err)
}

// lastFailed records the VM of request ev failed with err, the error of its
// last delivery (runs.Flow.Failed); when even that cannot be recorded the
// run is given up (runs.GiveUpRun) rather than left waiting for the VM.
func (s *Snapshotter) lastFailed(ctx context.Context, ev bus.Event, err error) ([]bus.Out, error) {
	p, perr := events.PayloadAs[events.SnapshotRequested](ev.Received)
	if perr != nil {
		return nil, bus.Permanent(perr)
	}
	outs, ferr := s.finish(ctx, p, taken{}, err)
	if ferr == nil {
		return outs, nil
	}
	return runs.GiveUpRun(ctx, s.runs, s.message, p.RunID, ev.Delivery, err)
}

// finish records the VM's result in the run and returns the VM's event, the
// requests released by its end and, if it was the last, run.completed.
func (s *Snapshotter) finish(ctx context.Context, p events.SnapshotRequested, snap taken, failed error) ([]bus.Out, error) {
	res := events.VMResult{VMUUID: p.VMUUID, VMName: p.VMName, Status: events.StatusSuccess}
	if failed != nil {
		res.Status, res.Error = events.StatusFailure, events.Reason(failed)
	}
	step, err := s.runs.Finish(ctx, p.RunID, res)
	if err != nil {
		return nil, err
	}
	if failed == nil && step.Late {
		s.log.Warn("snapshot taken after its run ended", bus.KeyFunction, Name, "run", p.RunID, "vm_uuid", p.VMUUID)
	}
	out, err := s.vmEvent(p, snap, failed)
	if err != nil {
		return nil, err
	}
	outs := []bus.Out{out}
	if step.Late {
		return outs, nil
	}
	for _, vm := range step.Released {
		o, err := s.requestOut(step.Run, vm, p.Retention)
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	if step.Done {
		o, err := s.flow.Completed(step.Run)
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	return outs, nil
}

func (s *Snapshotter) vmEvent(p events.SnapshotRequested, snap taken, failed error) (bus.Out, error) {
	if failed != nil {
		return s.message(events.DeriveID("snapshot.failed", p.RunID, p.VMUUID), events.SnapshotFailed{
			RunID: p.RunID, Job: p.Job, Schedule: p.Schedule, VMUUID: p.VMUUID, VMName: p.VMName, Pool: p.Pool,
			Error: events.Reason(failed)})
	}
	return s.message(events.DeriveID("snapshot.completed", p.RunID, p.VMUUID), events.SnapshotCompleted{
		RunID: p.RunID, Job: p.Job, Schedule: p.Schedule, VMUUID: p.VMUUID, VMName: p.VMName, Pool: p.Pool,
		SnapshotUUID: snap.uuid, SnapshotName: snap.name, Timestamp: catalog.FormatTimestamp(snap.at),
		DurationMS: snap.duration.Milliseconds()})
}
