package xapi

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// vdiInUseRetries bounds VDI.destroy attempts while a VDI is still attached
// somewhere (VDI_IN_USE), as the detach after VM.destroy can lag.
const vdiInUseRetries = 5

// DestroyVM destroys a VM or snapshot together with its disks, as Xen
// Orchestra's VM_destroy does. XAPI's VM.destroy removes the VM, its VBDs and
// VIFs but leaves the VDIs behind, so:
//  1. a blocked destroy is refused (OPERATION_BLOCKED) before anything changes;
//  2. is_a_template is cleared (snapshots are templates);
//  3. a VM that is not Halted is hard-shut-down;
//  4. the Disk VDIs and the VM's own snapshots are collected first;
//  5. VM.destroy runs, then its snapshots are destroyed the same way;
//  6. each collected VDI still used by another VM (other than a control
//     domain) is kept; the others are destroyed, retried on VDI_IN_USE.
func (c *Client) DestroyVM(ctx context.Context, vm VMRef) error {
	rec, err := c.VMRecord(ctx, vm)
	if err != nil {
		return fmt.Errorf("destroy %s: %w", vm, err)
	}
	if reason, ok := rec.BlockedOperations["destroy"]; ok {
		return fmt.Errorf("destroy %s: %w", vm, &Error{Code: CodeOperationBlocked, Params: []string{string(vm), reason}})
	}
	if err := c.prepareDestroy(ctx, vm, rec); err != nil {
		return fmt.Errorf("destroy %s: %w", vm, err)
	}
	return c.destroyWithDisks(ctx, vm, rec)
}

// ErrKept marks a VM that DestroyHaltedVM left as it was.
var ErrKept = errors.New("kept")

// DestroyHaltedVM destroys vm with its disks as DestroyVM does, but only
// while it is what the caller decided on: its record, read right before,
// must say Halted, not a template (nor a snapshot), and keep must not
// object to it (nil). It never shuts a VM down. A VM that does not qualify
// is left as it is, and so is one that leaves Halted between that read and
// VM.destroy (XAPI refuses to destroy a VM that is not halted, or while
// another operation such as its start runs): the error then wraps ErrKept
// and says why. A blocked destroy is refused as DestroyVM refuses it.
func (c *Client) DestroyHaltedVM(ctx context.Context, vm VMRef, keep func(VM) error) error {
	rec, err := c.VMRecord(ctx, vm)
	if err != nil {
		return fmt.Errorf("destroy %s: %w", vm, err)
	}
	if reason, ok := rec.BlockedOperations["destroy"]; ok {
		return fmt.Errorf("destroy %s: %w", vm, &Error{Code: CodeOperationBlocked, Params: []string{string(vm), reason}})
	}
	if err := destroyable(rec, keep); err != nil {
		return fmt.Errorf("destroy %s: %w: %w", vm, ErrKept, err)
	}
	err = c.destroyWithDisks(ctx, vm, rec)
	if IsCode(err, CodeBadPowerState) || IsCode(err, CodeOtherOperationInProgress) {
		return fmt.Errorf("%w (it left Halted meanwhile): %w", ErrKept, err)
	}
	return err
}

// destroyable says why DestroyHaltedVM keeps the VM of rec, nil when it
// may go.
func destroyable(rec VM, keep func(VM) error) error {
	switch {
	case rec.PowerState != Halted:
		return fmt.Errorf("it is %s, not halted", rec.PowerState)
	case rec.IsATemplate:
		return errors.New("it is a template")
	}
	return keep(rec)
}

// destroyWithDisks destroys vm, whose record rec was read before, then its
// snapshots and the disks rec says it had.
func (c *Client) destroyWithDisks(ctx context.Context, vm VMRef, rec VM) error {
	disks, err := c.disksOf(ctx, rec.VBDs)
	if err != nil {
		return fmt.Errorf("destroy %s: list disks: %w", vm, err)
	}
	if _, err := c.CallAsync(ctx, "VM.destroy", vm); err != nil {
		return fmt.Errorf("destroy %s: %w", vm, err)
	}
	var errs []error
	for _, snap := range rec.Snapshots {
		if err := c.DestroyVM(ctx, snap); err != nil && !IsCode(err, CodeHandleInvalid) {
			errs = append(errs, err)
		}
	}
	for _, vdi := range disks {
		if err := c.destroyUnusedVDI(ctx, vm, vdi); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("destroy %s: %w", vm, err)
	}
	return nil
}

func (c *Client) prepareDestroy(ctx context.Context, vm VMRef, rec VM) error {
	if rec.IsATemplate {
		if err := c.SetIsATemplate(ctx, vm, false); err != nil {
			return err
		}
	}
	if rec.PowerState != Halted && rec.PowerState != "" {
		return c.HardShutdown(ctx, vm)
	}
	return nil
}

// vmDisks returns the VDIs behind vm's Disk VBDs (not CDs, not empty drives).
func (c *Client) vmDisks(ctx context.Context, vm VMRef) ([]VDIRef, error) {
	rec, err := c.VMRecord(ctx, vm)
	if err != nil {
		return nil, err
	}
	return c.disksOf(ctx, rec.VBDs)
}

// disksOf returns the VDIs behind the Disk VBDs among vbds.
func (c *Client) disksOf(ctx context.Context, vbds []VBDRef) ([]VDIRef, error) {
	var out []VDIRef
	for _, vbdRef := range vbds {
		vbd, err := c.VBDRecord(ctx, vbdRef)
		if err != nil {
			return nil, err
		}
		if vbd.Type == "Disk" && !vbd.Empty && !vbd.VDI.IsNull() {
			out = append(out, vbd.VDI)
		}
	}
	return out, nil
}

// destroyUnusedVDI destroys vdi unless a VM other than gone and other than a
// control domain still has a VBD on it.
func (c *Client) destroyUnusedVDI(ctx context.Context, gone VMRef, vdi VDIRef) error {
	rec, err := c.VDIRecord(ctx, vdi)
	if IsCode(err, CodeHandleInvalid) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, vbdRef := range rec.VBDs {
		vbd, err := c.VBDRecord(ctx, vbdRef)
		if err != nil || vbd.VM == gone {
			continue // a VBD that vanished meanwhile does not hold the disk
		}
		owner, err := c.VMRecord(ctx, vbd.VM)
		if err == nil && !owner.IsControlDomain {
			c.opts.logger.Debug("xapi: keeping disk still used by another VM", "vdi", string(vdi), "vm", string(vbd.VM))
			return nil
		}
	}
	return c.destroyVDI(ctx, vdi)
}

// destroyVDI runs VDI.destroy, retrying with back-off on VDI_IN_USE. A VDI
// that is already gone counts as destroyed.
func (c *Client) destroyVDI(ctx context.Context, vdi VDIRef) error {
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		_, err := c.CallAsync(ctx, "VDI.destroy", vdi)
		if err == nil || IsCode(err, CodeHandleInvalid) {
			return nil
		}
		if !IsCode(err, CodeVDIInUse) || attempt == vdiInUseRetries {
			return fmt.Errorf("destroy disk %s: %w", vdi, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		wait *= 2
	}
}
