package healthcheck

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"xbr/events"
	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

// XenStore keys of Xen Orchestra's health check script (its
// docs/healthcheck example): "planned" before the start, then the guest's
// "success" or "failure", and the reason of a failure.
const (
	XenStoreKey      = "vm-data/xo-backup-health-check"
	XenStoreErrorKey = "vm-data/xo-backup-health-check-error"
	xsPlanned        = "planned"
)

// blockedStarts are the operations a standby copy blocks; its clone must start.
var blockedStarts = []string{"start", "start_on"}

// prepare marks the test VM as its check's (its alive mark is already
// there: the sweep then never takes a live check's VM for a leftover),
// removes its network interfaces, makes a clone startable and no copy, and
// plans the XenStore verdict.
func (h *Handler) prepare(ctx context.Context, c *xapi.Client, vm xapi.VMRef, req events.HealthCheckRequested) error {
	marks := []xotag.KV{{Key: KeyRequest, Value: req.RequestID}, {Key: xotag.KeyHealthCheckJob, Value: req.Job},
		{Key: xotag.KeyHealthCheckVM, Value: req.VMUUID}}
	for _, m := range marks {
		if err := c.AddToOtherConfig(ctx, vm, m.Key, m.Value); err != nil {
			return fmt.Errorf("mark the test VM: %w", err)
		}
	}
	if err := c.AddTag(ctx, vm, xotag.TagHealthCheck); err != nil {
		return fmt.Errorf("tag the test VM: %w", err)
	}
	rec, err := c.VMRecord(ctx, vm)
	if err != nil {
		return fmt.Errorf("read the test VM: %w", err)
	}
	if err := unplug(ctx, c, vm, rec); err != nil {
		return err
	}
	if req.Method == events.HealthMethodXenStore && rec.PowerState == xapi.Halted {
		if err := c.SetXenStoreKey(ctx, vm, XenStoreKey, xsPlanned); err != nil {
			return fmt.Errorf("plan the XenStore verdict: %w", err)
		}
	}
	return nil
}

// KeyRequest is the test VM's other_config key naming its check.
const KeyRequest = xotag.KeyHealthCheckRequest

// unplug removes the VIFs (the test VM must not meet the network its
// source is on), the blocked starts and the backup keys a clone inherits.
func unplug(ctx context.Context, c *xapi.Client, vm xapi.VMRef, rec xapi.VM) error {
	for _, vif := range rec.VIFs {
		if err := c.DestroyVIF(ctx, vif); err != nil && !xapi.IsCode(err, xapi.CodeHandleInvalid) {
			return fmt.Errorf("remove VIF %s of the test VM: %w", vif, err)
		}
	}
	for _, op := range blockedStarts {
		if _, ok := rec.BlockedOperations[op]; ok {
			if err := c.RemoveFromBlockedOperations(ctx, vm, op); err != nil {
				return fmt.Errorf("unblock %s on the test VM: %w", op, err)
			}
		}
	}
	for k := range rec.OtherConfig {
		if strings.HasPrefix(k, "xo:backup:") || strings.HasPrefix(k, "xbr:backup:") || k == xotag.KeyCopyOf {
			if err := c.RemoveFromOtherConfig(ctx, vm, k); err != nil {
				return fmt.Errorf("remove %s from the test VM: %w", k, err)
			}
		}
	}
	return nil
}

// aliveKeys hold a test VM's alive mark, renewed in turn. A renewal
// removes its key and adds it again (XAPI's add_to_other_config refuses an
// existing key); the other key, written one AliveEvery before, stays
// meanwhile, so a sweep never finds a live check's VM without a fresh mark.
var aliveKeys = [2]string{xotag.KeyHealthCheckAlive, xotag.KeyHealthCheckAliveAlt}

// mark writes both alive keys, the one earlier versions did not write
// first: a VM a redelivered check goes on with keeps its fresh mark
// throughout, and an earlier version's sweep finds its key.
func (h *Handler) mark(ctx context.Context, c *xapi.Client, vm xapi.VMRef) error {
	for _, k := range []string{aliveKeys[1], aliveKeys[0]} {
		if err := h.renew(ctx, c, vm, k); err != nil {
			return err
		}
	}
	return nil
}

// renew records on key that the check of vm is alive now.
func (h *Handler) renew(ctx context.Context, c *xapi.Client, vm xapi.VMRef, key string) error {
	return c.AddToOtherConfig(ctx, vm, key, h.opts.Now().UTC().Format(time.RFC3339))
}

// boot starts the test VM unless it runs (a redelivery) and waits for its
// guest's report; it returns the milliseconds the report took.
func (h *Handler) boot(ctx context.Context, c *xapi.Client, vm xapi.VMRef, req events.HealthCheckRequested) (int64, error) {
	timeout := time.Duration(req.TimeoutMS) * time.Millisecond
	start := h.opts.Now()
	rec, err := c.VMRecord(ctx, vm)
	if err != nil {
		return 0, fail(events.HealthReasonBootFailed, err)
	}
	// The timeout covers the start too: a VM.start that never returns must not hold the
	// check, its slot and its test VM for ever.
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if rec.PowerState != xapi.Running {
		if err := c.Start(wctx, vm, false, false); err != nil {
			if ctx.Err() == nil && wctx.Err() != nil {
				return 0, fail(events.HealthReasonTimeout, fmt.Errorf("the test VM %s did not start within %s", rec.UUID, timeout))
			}
			return 0, fail(events.HealthReasonBootFailed, fmt.Errorf("start the test VM: %w", err))
		}
	}
	err = h.wait(wctx, c, vm, req.Method)
	switch {
	case err == nil:
		return h.opts.Now().Sub(start).Milliseconds(), nil
	case ctx.Err() != nil:
		return 0, ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		return 0, fail(events.HealthReasonTimeout, fmt.Errorf("the guest of the test VM %s did not report within %s", rec.UUID, timeout))
	}
	return 0, err
}

// wait polls the test VM until its guest reports, it halts, or ctx ends
// (check's keepAlive renews its mark meanwhile).
func (h *Handler) wait(ctx context.Context, c *xapi.Client, vm xapi.VMRef, method string) error {
	poll := time.NewTicker(h.opts.Poll)
	defer poll.Stop()
	for {
		done, err := h.reported(ctx, c, vm, method)
		if done || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-poll.C:
		}
	}
}

// reported reads the test VM once: true when its guest has reported (for
// the XenStore method, with "success"); an error when it cannot anymore.
func (h *Handler) reported(ctx context.Context, c *xapi.Client, vm xapi.VMRef, method string) (bool, error) {
	rec, err := c.VMRecord(ctx, vm)
	if err != nil {
		return false, err
	}
	if rec.PowerState != xapi.Running {
		return false, fail(events.HealthReasonBootFailed, fmt.Errorf("the test VM %s is %s before its guest reported", rec.UUID, rec.PowerState))
	}
	if method == events.HealthMethodXenStore {
		xs, err := c.XenStoreData(ctx, vm)
		if err != nil {
			return false, err
		}
		switch xs[XenStoreKey] {
		case "success":
			return true, nil
		case "", xsPlanned:
			return false, nil
		}
		why := xs[XenStoreErrorKey]
		if why == "" {
			why = "no reason given"
		}
		return false, fail(events.HealthReasonGuestFailure, fmt.Errorf("the guest's health check script wrote %q: %s", xs[XenStoreKey], why))
	}
	if rec.GuestMetrics.IsNull() {
		return false, nil
	}
	gm, err := c.GuestMetricsRecord(ctx, rec.GuestMetrics)
	if xapi.IsCode(err, xapi.CodeHandleInvalid) {
		return false, nil // replaced meanwhile
	}
	return err == nil && gm.PVDriversDetected, err
}
