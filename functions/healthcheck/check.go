package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/xapi"
)

// cleanupTimeout bounds destroying a test VM after its check.
const cleanupTimeout = 2 * time.Minute

// failure is a check's failed outcome: its reason and error.
type failure struct {
	reason string
	err    error
}

func (f *failure) Error() string { return f.reason + ": " + f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

func fail(reason string, err error) error { return &failure{reason: reason, err: err} }

// restored goes on with the test VM the restore made.
func (h *Handler) restored(ctx context.Context, done events.RestoreCompleted) ([]bus.Out, error) {
	req, ended, ok, err := h.recall(ctx, done.RequestID)
	if err != nil || !ok {
		return nil, err // !ok: never asked, or long expired
	}
	if ended != nil { // a redelivery: the same outcome again
		return h.out(req.RequestID, ended)
	}
	start := h.opts.Now()
	c, err := h.pools.Client(ctx, req.Pool)
	if err != nil {
		return nil, fmt.Errorf("health check %s: %w", req.RequestID, err)
	}
	vm, err := vmByUUID(ctx, c, done.NewVMUUID)
	if errors.Is(err, errGone) {
		return h.outcome(ctx, req, start, 0, fail(events.HealthReasonBootFailed, err))
	}
	if err != nil { // tried again: an outcome now would leave the unmarked test VM to no one
		return nil, fmt.Errorf("health check %s: find the test VM %s: %w", req.RequestID, done.NewVMUUID, err)
	}
	bootMS, err := h.check(ctx, c, vm, req)
	return h.outcome(ctx, req, start, bootMS, err)
}

// restoreFailed: no test VM could be made.
func (h *Handler) restoreFailed(ctx context.Context, f events.RestoreFailed) ([]bus.Out, error) {
	req, ended, ok, err := h.recall(ctx, f.RequestID)
	if err != nil || !ok {
		return nil, err
	}
	if ended != nil {
		return h.out(req.RequestID, ended)
	}
	return h.outcome(ctx, req, h.opts.Now(), 0, fail(events.HealthReasonRestoreFailed, errors.New(f.Error)))
}

// checkCopy clones a standby copy on its pool and checks the clone.
func (h *Handler) checkCopy(ctx context.Context, req events.HealthCheckRequested) ([]bus.Out, error) {
	start := h.opts.Now()
	c, err := h.pools.Client(ctx, req.Pool)
	if err != nil {
		return nil, fmt.Errorf("health check %s: %w", req.RequestID, err)
	}
	src, err := vmByUUID(ctx, c, req.CopyUUID)
	if errors.Is(err, errGone) {
		return h.outcome(ctx, req, start, 0, fail(events.HealthReasonRestoreFailed,
			fmt.Errorf("the standby copy %s no longer exists on pool %s", req.CopyUUID, req.Pool)))
	}
	if err != nil { // tried again: a moment's outage is not the check's outcome
		return nil, fmt.Errorf("health check %s: find the standby copy %s: %w", req.RequestID, req.CopyUUID, err)
	}
	vm, err := h.findTest(ctx, c, req.RequestID) // a redelivery goes on with its clone
	if err == nil && vm == "" {
		vm, err = c.Clone(ctx, src, TestVMPrefix+testName(req))
	}
	if err != nil {
		return h.outcome(ctx, req, start, 0, fail(events.HealthReasonRestoreFailed, fmt.Errorf("clone the standby copy: %w", err)))
	}
	bootMS, err := h.check(ctx, c, vm, req)
	return h.outcome(ctx, req, start, bootMS, err)
}

// check marks, prepares, boots and destroys the test VM; it returns how
// long the guest took to report, or why it did not. Its mark is renewed
// until the end. The VM is destroyed whatever happened.
func (h *Handler) check(ctx context.Context, c *xapi.Client, vm xapi.VMRef, req events.HealthCheckRequested) (int64, error) {
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if derr := c.DestroyVM(cctx, vm); derr != nil && !xapi.IsCode(derr, xapi.CodeHandleInvalid) {
			h.log.Warn("health check: destroy the test VM; the sweep retries", "request", req.RequestID, "vm", string(vm), "err", derr)
		}
	}()
	if err := h.mark(ctx, c, vm); err != nil { // first: the sweep never takes a live check's VM for a leftover
		return 0, fail(events.HealthReasonRestoreFailed, fmt.Errorf("mark the test VM: %w", err))
	}
	stop := h.keepAlive(ctx, c, vm, req.RequestID)
	defer stop() // before the destroy
	if err := h.prepare(ctx, c, vm, req); err != nil {
		return 0, fail(events.HealthReasonRestoreFailed, err)
	}
	rec, err := c.VMRecord(ctx, vm)
	if err != nil {
		return 0, fail(events.HealthReasonBootFailed, err)
	}
	started := events.HealthCheckStarted{RequestID: req.RequestID, BackupID: req.BackupID, Job: req.Job,
		VMUUID: req.VMUUID, Pool: req.Pool, SR: req.SR, TestVMUUID: rec.UUID}
	if err := h.publish(ctx, req.RequestID, started); err != nil {
		h.log.Warn("health check: publish started", "request", req.RequestID, "err", err)
	}
	return h.boot(ctx, c, vm, req)
}

// outcome turns a check's result into its completed or failed event. A
// cancelled context is no outcome: the event is redelivered.
func (h *Handler) outcome(ctx context.Context, req events.HealthCheckRequested, start time.Time, bootMS int64, err error) ([]bus.Out, error) {
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	ms := h.opts.Now().Sub(start).Milliseconds()
	if err == nil {
		h.log.Info("health check completed", "request", req.RequestID, "backup", req.BackupID, "boot_ms", bootMS)
		p := events.HealthCheckCompleted{RequestID: req.RequestID, BackupID: req.BackupID,
			Job: req.Job, VMUUID: req.VMUUID, Pool: req.Pool, SR: req.SR, Method: req.Method, BootMS: bootMS, DurationMS: ms}
		h.settle(ctx, req, p)
		return h.out(req.RequestID, p)
	}
	reason, cause := events.HealthReasonBootFailed, err
	var f *failure
	if errors.As(err, &f) {
		reason, cause = f.reason, f.err
	}
	h.log.Warn("health check failed", "request", req.RequestID, "backup", req.BackupID, "reason", reason, "err", err)
	p := events.HealthCheckFailed{RequestID: req.RequestID, BackupID: req.BackupID, Job: req.Job,
		VMUUID: req.VMUUID, Pool: req.Pool, SR: req.SR, Reason: reason, Error: events.Reason(cause), DurationMS: ms}
	h.settle(ctx, req, p)
	return h.out(req.RequestID, p)
}

// keepAlive renews the mark of vm every AliveEvery until stop is called:
// through every step of the check, a VM.start that takes minutes on a big
// VM or a slow SR included, so that no sweep takes it for a leftover. It
// renews aliveKeys in turn, and a key whose renewal failed (maybe removed
// already) again, never the other: that one is the fresh mark left.
func (h *Handler) keepAlive(ctx context.Context, c *xapi.Client, vm xapi.VMRef, request string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(h.opts.AliveEvery)
		defer t.Stop()
		for next := 0; ; {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			err := h.renew(ctx, c, vm, aliveKeys[next])
			switch {
			case err == nil:
				next = 1 - next
			case ctx.Err() == nil:
				h.log.Warn("health check: renew the test VM's mark", "request", request, "vm", string(vm), "err", err)
			}
		}
	}()
	return func() { cancel(); <-done }
}
