package xapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Snapshot snapshots vm (Async.VM.snapshot) and returns the snapshot. Disks
// in ignoreVDIs are left out. ignore_vdis exists since XAPI 21.4; an older
// host answers MESSAGE_PARAMETER_COUNT_MISMATCH, and then, as Xen
// Orchestra does, the call is repeated without it and the snapshots of the
// ignored disks are destroyed afterwards.
func (c *Client) Snapshot(ctx context.Context, vm VMRef, name string, ignoreVDIs []VDIRef) (VMRef, error) {
	args := []any{vm, name}
	if len(ignoreVDIs) > 0 {
		args = append(args, ignoreVDIs)
	}
	res, err := c.CallAsync(ctx, "VM.snapshot", args...)
	fallback := len(ignoreVDIs) > 0 && IsCode(err, CodeParamCountMismatch)
	if fallback {
		c.opts.logger.Debug("xapi: VM.snapshot has no ignore_vdis here, retrying without", "vm", string(vm))
		res, err = c.CallAsync(ctx, "VM.snapshot", vm, name)
	}
	if err != nil {
		return "", fmt.Errorf("snapshot %s: %w", vm, err)
	}
	ref, err := ParseTaskRef(res)
	if err != nil {
		return "", fmt.Errorf("snapshot %s: %w", vm, err)
	}
	snap := VMRef(ref)
	if fallback {
		if err := c.destroySnapshotsOf(ctx, snap, ignoreVDIs); err != nil {
			return snap, fmt.Errorf("snapshot %s: drop ignored disks: %w", vm, err)
		}
	}
	return snap, nil
}

// destroySnapshotsOf destroys the disks of snap that are snapshots of ignored.
func (c *Client) destroySnapshotsOf(ctx context.Context, snap VMRef, ignored []VDIRef) error {
	skip := make(map[VDIRef]bool, len(ignored))
	for _, v := range ignored {
		skip[v] = true
	}
	disks, err := c.vmDisks(ctx, snap)
	if err != nil {
		return err
	}
	var errs []error
	for _, vdi := range disks {
		rec, err := c.VDIRecord(ctx, vdi)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if skip[rec.SnapshotOf] {
			errs = append(errs, c.destroyVDI(ctx, vdi))
		}
	}
	return errors.Join(errs...)
}

// VMSnapshots returns the snapshots of vm (VM.get_snapshots).
func (c *Client) VMSnapshots(ctx context.Context, vm VMRef) ([]VMRef, error) {
	v, err := c.Call(ctx, "VM.get_snapshots", vm)
	if err != nil {
		return nil, err
	}
	f := &fields{class: "VM", m: map[string]any{"snapshots": v}}
	out := refs[VMRef](f, "snapshots")
	return out, f.err
}

// VMDisks returns the VDIs behind vm's disk drives (its Disk VBDs that are
// not empty), each once, in the order of its VBDs: the disks a snapshot or
// an export of vm carries.
func (c *Client) VMDisks(ctx context.Context, vm VMRef) ([]VDIRef, error) {
	rec, err := c.VMRecord(ctx, vm)
	if err != nil {
		return nil, fmt.Errorf("read VM %s: %w", vm, err)
	}
	var out []VDIRef
	for _, ref := range rec.VBDs {
		vbd, err := c.VBDRecord(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("read VBD %s of VM %s: %w", ref, vm, err)
		}
		if vbd.Type == "Disk" && !vbd.Empty && !vbd.VDI.IsNull() && !slices.Contains(out, vbd.VDI) {
			out = append(out, vbd.VDI)
		}
	}
	return out, nil
}

// SetNameLabel sets obj's name_label.
func (c *Client) SetNameLabel(ctx context.Context, obj Object, value string) error {
	return c.void(ctx, obj.Class()+".set_name_label", obj.Ref(), value)
}

// SetNameDescription sets obj's name_description.
func (c *Client) SetNameDescription(ctx context.Context, obj Object, value string) error {
	return c.void(ctx, obj.Class()+".set_name_description", obj.Ref(), value)
}

// AddToOtherConfig sets other_config[key] = value on obj. XAPI's
// add_to_other_config fails with MAP_DUPLICATE_KEY when the key exists, so
// the key is removed first (removing an absent key is not an error).
func (c *Client) AddToOtherConfig(ctx context.Context, obj Object, key, value string) error {
	if err := c.RemoveFromOtherConfig(ctx, obj, key); err != nil {
		return err
	}
	return c.void(ctx, obj.Class()+".add_to_other_config", obj.Ref(), key, value)
}

// RemoveFromOtherConfig deletes other_config[key] on obj.
func (c *Client) RemoveFromOtherConfig(ctx context.Context, obj Object, key string) error {
	return c.void(ctx, obj.Class()+".remove_from_other_config", obj.Ref(), key)
}

// AddTag adds a tag to obj (a no-op when present).
func (c *Client) AddTag(ctx context.Context, obj Object, tag string) error {
	return c.void(ctx, obj.Class()+".add_tags", obj.Ref(), tag)
}

// RemoveTag removes a tag from obj.
func (c *Client) RemoveTag(ctx context.Context, obj Object, tag string) error {
	return c.void(ctx, obj.Class()+".remove_tags", obj.Ref(), tag)
}

// SetIsATemplate sets is_a_template. Snapshots are templates; Xen
// Orchestra clears the flag so an export re-imports as a VM.
func (c *Client) SetIsATemplate(ctx context.Context, vm VMRef, value bool) error {
	return c.void(ctx, "VM.set_is_a_template", vm, value)
}

// SetHARestartPriority sets vm's ha_restart_priority: "restart",
// "best-effort", or "" for a VM HA does not restart.
func (c *Client) SetHARestartPriority(ctx context.Context, vm VMRef, value string) error {
	return c.void(ctx, "VM.set_ha_restart_priority", vm, value)
}

// AddToBlockedOperations blocks op on vm with a reason (XAPI then refuses it
// with OPERATION_BLOCKED). An existing entry is replaced.
func (c *Client) AddToBlockedOperations(ctx context.Context, vm VMRef, op, reason string) error {
	if err := c.RemoveFromBlockedOperations(ctx, vm, op); err != nil {
		return err
	}
	return c.void(ctx, "VM.add_to_blocked_operations", vm, op, reason)
}

// RemoveFromBlockedOperations unblocks op on vm.
func (c *Client) RemoveFromBlockedOperations(ctx context.Context, vm VMRef, op string) error {
	return c.void(ctx, "VM.remove_from_blocked_operations", vm, op)
}

// Start boots a halted VM (Async.VM.start).
func (c *Client) Start(ctx context.Context, vm VMRef, paused, force bool) error {
	_, err := c.CallAsync(ctx, "VM.start", vm, paused, force)
	return err
}

// CleanShutdown asks a running VM's guest to shut down (Async.VM.clean_shutdown).
func (c *Client) CleanShutdown(ctx context.Context, vm VMRef) error {
	_, err := c.CallAsync(ctx, "VM.clean_shutdown", vm)
	return err
}

// HardShutdown powers a VM off (Async.VM.hard_shutdown); it works from
// Running, Paused and Suspended.
func (c *Client) HardShutdown(ctx context.Context, vm VMRef) error {
	_, err := c.CallAsync(ctx, "VM.hard_shutdown", vm)
	return err
}

// void calls a method whose result is void ("").
func (c *Client) void(ctx context.Context, method string, args ...any) error {
	_, err := c.Call(ctx, method, args...)
	return err
}
