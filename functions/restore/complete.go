package restore

import (
	"context"
	"fmt"

	"xbr/events"
	"xbr/shared/xapi"
)

// complete finishes the imported (or found) VM and reports it.
func (h *Handler) complete(ctx context.Context, j *job, vm xapi.VMRef, size int64) (events.RestoreCompleted, error) {
	name := VMName(j.req.Name, j.meta)
	if j.point != nil {
		name = PointVMName(j.req.Name, j.point, j.id)
	}
	// Accept picked a free name, but a request may not have been accepted
	// (the events are public) or may race another: the name is checked again.
	if err := h.nameVM(ctx, j.c, j.req.Pool, vm, name, j.req.RequestID); err != nil {
		return events.RestoreCompleted{}, retryable(err) // the VM is marked: a redelivery finishes it
	}
	f := finishing{description: Description(j.start, j.id), start: j.req.Start}
	started, err := finish(ctx, j.c, vm, f)
	if err != nil {
		return events.RestoreCompleted{}, retryable(err) // the VM is marked: a redelivery finishes it
	}
	rec, err := j.c.VMRecord(ctx, vm)
	if err != nil {
		return events.RestoreCompleted{}, retryable(fmt.Errorf("read the restored VM: %w", err))
	}
	return h.completed(j, rec, size, started), nil
}

// again reports completed again the VM an earlier delivery of the request
// finished (named, described, tagged, cleaned), without the backup: it may
// have been removed since (retention) or be out of reach, and the VM needs
// nothing of it. The VM is started first when the request asks and it is
// not running (the earlier delivery failed to start it). The report's
// bytes are 0: this delivery moved none. ok is false for a VM that is not
// finished: its name comes from the backup, so the restore goes on.
func (h *Handler) again(ctx context.Context, j *job, vm xapi.VMRef) (done events.RestoreCompleted, ok bool, err error) {
	rec, err := j.c.VMRecord(ctx, vm)
	if err != nil {
		return events.RestoreCompleted{}, false, retryable(fmt.Errorf("read the restored VM: %w", err))
	}
	if !finished(rec) {
		return events.RestoreCompleted{}, false, nil
	}
	started, err := startIfAsked(ctx, j.c, vm, rec, j.req.Start)
	if err != nil {
		return events.RestoreCompleted{}, true, retryable(err)
	}
	h.log.Info("restore redelivered: its VM was already restored", "request", j.req.RequestID, "vm_uuid", rec.UUID)
	return h.completed(j, rec, 0, started), true, nil
}

// completed is the report of the restored VM rec.
func (h *Handler) completed(j *job, rec xapi.VM, size int64, started bool) events.RestoreCompleted {
	d := h.now().Sub(j.start)
	done := events.RestoreCompleted{RequestID: j.req.RequestID, BackupID: j.req.BackupID, Pool: j.req.Pool,
		SR: j.sr.UUID, NewVMUUID: rec.UUID, NewVMName: rec.NameLabel, Bytes: size,
		DurationMS: d.Milliseconds(), Started: started}
	if secs := d.Seconds(); secs > 0 {
		done.BytesPerSecond = int64(float64(size) / secs)
	}
	return done
}
