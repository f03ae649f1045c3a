package healthcheck

import (
	"context"
	"slices"
	"time"

	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

// SweepAll sweeps every pool (at start-up).
func (h *Handler) SweepAll(ctx context.Context, pools []string) {
	for _, p := range pools {
		h.Sweep(ctx, p)
	}
}

// sweepEvery sweeps the pools every StaleAfter until ctx ends.
func (h *Handler) sweepEvery(ctx context.Context, pools []string) {
	t := time.NewTicker(h.opts.StaleAfter)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.SweepAll(ctx, pools)
		}
	}
}

// Sweep destroys the test VMs of pool whose check is no longer alive (its
// mark, the newer of its two keys, is older than StaleAfter, or both keys
// are missing): the leftovers of a killed check. Errors are logged: the next sweep tries again. It returns the
// UUIDs of the VMs it destroyed.
func (h *Handler) Sweep(ctx context.Context, pool string) []string {
	c, err := h.pools.Client(ctx, pool)
	if err != nil {
		h.log.Warn("health check sweep: pool unreachable", "pool", pool, "err", err)
		return nil
	}
	vms, err := c.CachedVMs(ctx) // every check sweeps: the changes since the last, not the whole pool
	if err != nil {
		h.log.Warn("health check sweep: list VMs", "pool", pool, "err", err)
		return nil
	}
	var swept []string
	for ref, vm := range vms {
		if !slices.Contains(vm.Tags, xotag.TagHealthCheck) || h.alive(vm) {
			continue
		}
		if err := c.DestroyVM(ctx, ref); err != nil && !xapi.IsCode(err, xapi.CodeHandleInvalid) {
			h.log.Warn("health check sweep: destroy a leftover test VM", "pool", pool, "vm_uuid", vm.UUID, "err", err)
			continue
		}
		h.log.Info("health check sweep: destroyed a leftover test VM", "pool", pool, "vm_uuid", vm.UUID,
			"request", vm.OtherConfig[KeyRequest])
		swept = append(swept, vm.UUID)
	}
	return swept
}

// alive reports whether vm's check renewed its mark, the newer of its
// aliveKeys, within StaleAfter. A mark is another process's clock read
// against this one's.
func (h *Handler) alive(vm xapi.VM) bool {
	for _, k := range aliveKeys {
		at, err := time.Parse(time.RFC3339, vm.OtherConfig[k])
		if err == nil && h.opts.Now().Sub(at) < h.opts.StaleAfter {
			return true
		}
	}
	return false
}

// findTest returns the test VM of a check, "" when there is none.
func (h *Handler) findTest(ctx context.Context, c *xapi.Client, requestID string) (xapi.VMRef, error) {
	vms, err := c.CachedVMs(ctx)
	if err != nil {
		return "", err
	}
	for ref, vm := range vms {
		if vm.OtherConfig[KeyRequest] == requestID && !vm.IsASnapshot {
			return ref, nil
		}
	}
	return "", nil
}
