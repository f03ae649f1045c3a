package snapshot

import (
	"context"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/runs"
)

// resolve selects the job's VMs on its pools. A VM listed by uuid that
// cannot be snapshotted is skipped, one that does not exist fails (the same
// results as export's).
func (s *Snapshotter) resolve(ctx context.Context, job config.Job) ([]runs.VM, error) {
	return runs.Resolve(ctx, s.pools, job)
}

// request is the snapshot.requested of vm, one of run r's VMs, with the
// retention of the run's schedule.
func (s *Snapshotter) request(job config.Job, r runs.Run, vm runs.VM) (bus.Out, error) {
	sched, _ := job.Schedule(r.Schedule)
	return s.requestOut(r, vm, int64(sched.SnapshotRetention))
}

func (s *Snapshotter) requestOut(r runs.Run, vm runs.VM, retention int64) (bus.Out, error) {
	return s.message(events.DeriveID("snapshot.requested", r.ID, vm.UUID), events.SnapshotRequested{
		RunID: r.ID, Job: r.Job, Schedule: r.Schedule, FireTime: r.FireTime,
		VMUUID: vm.UUID, VMName: vm.Name, Pool: vm.Pool, Retention: retention})
}
