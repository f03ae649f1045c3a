package xapi

import (
	"context"
	"fmt"
)

// GuestMetrics is the fields of a VM_guest_metrics record the project
// uses: what the guest agent reports once the guest has booted.
type GuestMetrics struct {
	UUID              string
	PVDriversDetected bool
	OSVersion         map[string]string
	Live              bool
}

// GuestMetricsRecord returns the VM_guest_metrics record ref (a VM's
// guest_metrics field; OpaqueRef:NULL until its agent reports).
func (c *Client) GuestMetricsRecord(ctx context.Context, ref Ref) (GuestMetrics, error) {
	return getRecord(ctx, c, "VM_guest_metrics", ref, decodeGuestMetrics)
}

func decodeGuestMetrics(v any) (GuestMetrics, error) {
	f := newFields("VM_guest_metrics", v)
	r := GuestMetrics{UUID: f.str("uuid"), PVDriversDetected: f.boolean("PV_drivers_detected"),
		OSVersion: f.strMap("os_version"), Live: f.boolean("live")}
	return r, f.err
}

// XenStoreData returns the VM's xenstore_data: what the toolstack writes
// under the guest's vm-data at start, and the vm-data keys the guest
// writes back while it runs.
func (c *Client) XenStoreData(ctx context.Context, vm VMRef) (map[string]string, error) {
	v, err := c.Call(ctx, "VM.get_xenstore_data", vm)
	if err != nil {
		return nil, err
	}
	f := newFields("VM", map[string]any{"xenstore_data": v})
	m := f.strMap("xenstore_data")
	return m, f.err
}

// SetXenStoreKey sets xenstore_data[key] = value on a halted VM (XAPI
// writes it into the guest's XenStore at the next start).
func (c *Client) SetXenStoreKey(ctx context.Context, vm VMRef, key, value string) error {
	if err := c.void(ctx, "VM.remove_from_xenstore_data", vm, key); err != nil {
		return err
	}
	return c.void(ctx, "VM.add_to_xenstore_data", vm, key, value)
}

// Clone makes a new VM from a halted VM or template (VM.clone: its disks
// are fast clones on the same SR) and returns its ref.
func (c *Client) Clone(ctx context.Context, vm VMRef, name string) (VMRef, error) {
	res, err := c.CallAsync(ctx, "VM.clone", vm, name)
	if err != nil {
		return "", fmt.Errorf("clone %s: %w", vm, err)
	}
	ref, err := ParseTaskRef(res)
	if err != nil {
		return "", fmt.Errorf("clone %s: %w", vm, err)
	}
	return VMRef(ref), nil
}

// DestroyVIF removes a VIF (a network interface of a halted VM).
func (c *Client) DestroyVIF(ctx context.Context, vif Ref) error {
	return c.void(ctx, "VIF.destroy", vif)
}
