package restore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"xbr/events"
	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

// finishing is what is done to an imported VM once named (nameVM); every
// step is idempotent, so a redelivered request re-applies them to the VM it
// finds.
type finishing struct {
	description string
	start       bool
}

// xoBackupPrefix starts every key of Xen Orchestra's backups: xotag's
// KeyJob, KeySchedule, KeyVM, KeyDatetime, KeySR and the ones XO adds.
const xoBackupPrefix = "xo:backup:"

// backupKey reports the other_config keys Xen Orchestra puts on backup
// snapshots and copies; a restored VM must not look like one.
func backupKey(k string) bool {
	return strings.HasPrefix(k, xoBackupPrefix) || k == xotag.KeyCopyOf
}

// removeTimeout bounds the removal of a VM that could not be marked, which
// runs even when the delivery's context has ended.
const removeTimeout = 30 * time.Second

// mark records the request on a VM just imported, before any other call to
// the pool: from then on a redelivery finds the VM instead of importing a
// second one. A VM that cannot be marked is destroyed, so that a redelivery
// imports again and a failed restore leaves no VM.
func mark(ctx context.Context, c *xapi.Client, vm xapi.VMRef, requestID string) error {
	err := c.AddToOtherConfig(ctx, vm, KeyRequest, requestID)
	if err == nil {
		return nil
	}
	err = fmt.Errorf("mark the restored VM: %w", err)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
	defer cancel()
	if derr := c.DestroyVM(rctx, vm); derr != nil {
		return errors.Join(err, fmt.Errorf("remove the unmarked VM: %w", derr))
	}
	return fmt.Errorf("%w; the VM was removed", err)
}

// finish describes, tags and cleans a marked VM that nameVM has named,
// then starts it if asked. It reports whether the VM was started.
func finish(ctx context.Context, c *xapi.Client, vm xapi.VMRef, f finishing) (bool, error) {
	steps := []struct {
		what string
		do   func() error
	}{
		{"describe", func() error { return c.SetNameDescription(ctx, vm, f.description) }},
		{"tag", func() error { return c.AddTag(ctx, vm, TagRestored) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return false, fmt.Errorf("%s the restored VM: %w", s.what, err)
		}
	}
	rec, err := c.VMRecord(ctx, vm)
	if err != nil {
		return false, fmt.Errorf("read the restored VM: %w", err)
	}
	if err := clean(ctx, c, vm, rec); err != nil {
		return false, err
	}
	return startIfAsked(ctx, c, vm, rec, f.start)
}

// startIfAsked starts vm (whose record is rec) when start is asked and it
// is not running; it reports whether the VM runs.
func startIfAsked(ctx context.Context, c *xapi.Client, vm xapi.VMRef, rec xapi.VM, start bool) (bool, error) {
	if !start || rec.PowerState == xapi.Running {
		return rec.PowerState == xapi.Running, nil
	}
	if err := c.Start(ctx, vm, false, false); err != nil {
		return false, fmt.Errorf("start the restored VM: %w", err)
	}
	return true, nil
}

// clean removes the backup keys and, as Xen Orchestra does, the template
// flag an exported snapshot carries.
func clean(ctx context.Context, c *xapi.Client, vm xapi.VMRef, rec xapi.VM) error {
	for k := range rec.OtherConfig {
		if backupKey(k) {
			if err := c.RemoveFromOtherConfig(ctx, vm, k); err != nil {
				return fmt.Errorf("remove %s from the restored VM: %w", k, err)
			}
		}
	}
	if rec.IsATemplate {
		if err := c.SetIsATemplate(ctx, vm, false); err != nil {
			return fmt.Errorf("clear is_a_template on the restored VM: %w", err)
		}
	}
	return nil
}

// dropUnfinished runs when a request has failed for good. A VM an attempt
// imported and marked but could not finish (name, description, tag, the
// backup keys removed) is removed with its disks, so a failed restore
// leaves no VM; a finished one, which only failed to start or to be read
// back, is kept. The reason returned says which, or that the pool could not
// be asked.
func (h *Handler) dropUnfinished(ctx context.Context, req events.RestoreRequested, err error) error {
	if !slices.Contains(h.pools.Names(), req.Pool) {
		return err
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
	defer cancel()
	c, cerr := h.pools.Client(rctx, req.Pool)
	var vm xapi.VMRef
	found := false
	if cerr == nil {
		vm, found, cerr = findRestored(rctx, c, req.RequestID)
	}
	var rec xapi.VM
	if cerr == nil && found {
		rec, cerr = c.VMRecord(rctx, vm)
	}
	switch {
	case cerr != nil:
		return fmt.Errorf("%w; a partly restored VM marked %s=%s may be left on pool %s (could not check: %v)",
			err, KeyRequest, req.RequestID, req.Pool, cerr)
	case !found:
		return err
	case finished(rec):
		return fmt.Errorf("%w; the restored VM %q (%s) is kept", err, rec.NameLabel, rec.UUID)
	}
	if derr := c.DestroyVM(rctx, vm); derr != nil {
		return errors.Join(err, fmt.Errorf("remove the partly restored VM %s: %w", rec.UUID, derr))
	}
	return fmt.Errorf("%w; the partly restored VM was removed", err)
}

// finished reports whether finish's steps before the start all took effect
// on rec: tagged, no backup key left, not a template.
func finished(rec xapi.VM) bool {
	if !slices.Contains(rec.Tags, TagRestored) || rec.IsATemplate {
		return false
	}
	for k := range rec.OtherConfig {
		if backupKey(k) {
			return false
		}
	}
	return true
}
