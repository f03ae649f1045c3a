package xapi

import (
	"context"
	"fmt"

	"xbr/shared/xapi/xmlrpc"
)

// getAll calls <class>.get_all_records and decodes every record.
func getAll[R ~string, T any](ctx context.Context, c *Client, class string, dec func(any) (T, error)) (map[R]T, error) {
	v, err := c.Call(ctx, class+".get_all_records")
	if err != nil {
		return nil, err
	}
	m, ok := xmlrpc.AsMap(v)
	if !ok {
		return nil, fmt.Errorf("%s.get_all_records: result is %s, not a map", class, describeValue(v))
	}
	out := make(map[R]T, len(m))
	for ref, rv := range m {
		rec, err := dec(rv)
		if err != nil {
			return nil, fmt.Errorf("%s.get_all_records: %s: %w", class, ref, err)
		}
		out[R(ref)] = rec
	}
	return out, nil
}

// getRecord calls <class>.get_record.
func getRecord[R ~string, T any](ctx context.Context, c *Client, class string, ref R, dec func(any) (T, error)) (T, error) {
	v, err := c.Call(ctx, class+".get_record", string(ref))
	if err != nil {
		var zero T
		return zero, err
	}
	rec, err := dec(v)
	if err != nil {
		return rec, fmt.Errorf("%s.get_record %s: %w", class, ref, err)
	}
	return rec, nil
}

// getByUUID calls <class>.get_by_uuid (UUID_INVALID when absent).
func getByUUID[R ~string](ctx context.Context, c *Client, class, uuid string) (R, error) {
	v, err := c.Call(ctx, class+".get_by_uuid", uuid)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s.get_by_uuid %s: result is %s, not a ref", class, uuid, describeValue(v))
	}
	return R(s), nil
}

// VMs returns every VM record, including templates, snapshots and dom0.
func (c *Client) VMs(ctx context.Context) (map[VMRef]VM, error) {
	return getAll[VMRef](ctx, c, "VM", decodeVM)
}

// VDIs returns every VDI record.
func (c *Client) VDIs(ctx context.Context) (map[VDIRef]VDI, error) {
	return getAll[VDIRef](ctx, c, "VDI", decodeVDI)
}

// VBDs returns every VBD record.
func (c *Client) VBDs(ctx context.Context) (map[VBDRef]VBD, error) {
	return getAll[VBDRef](ctx, c, "VBD", decodeVBD)
}

// SRs returns every SR record.
func (c *Client) SRs(ctx context.Context) (map[SRRef]SR, error) {
	return getAll[SRRef](ctx, c, "SR", decodeSR)
}

// Pools returns the pool records (a pool has exactly one).
func (c *Client) Pools(ctx context.Context) (map[PoolRef]Pool, error) {
	return getAll[PoolRef](ctx, c, "pool", decodePool)
}

// Hosts returns every host record.
func (c *Client) Hosts(ctx context.Context) (map[HostRef]Host, error) {
	return getAll[HostRef](ctx, c, "host", decodeHost)
}

// Networks returns every network record.
func (c *Client) Networks(ctx context.Context) (map[NetworkRef]Network, error) {
	return getAll[NetworkRef](ctx, c, "network", decodeNetwork)
}

// Tasks returns every task record.
func (c *Client) Tasks(ctx context.Context) (map[TaskRef]Task, error) {
	return getAll[TaskRef](ctx, c, "task", decodeTask)
}

// Pool returns the pool's single record.
func (c *Client) Pool(ctx context.Context) (PoolRef, Pool, error) {
	pools, err := c.Pools(ctx)
	if err != nil {
		return "", Pool{}, err
	}
	for ref, p := range pools {
		return ref, p, nil
	}
	return "", Pool{}, fmt.Errorf("pool.get_all_records: no pool")
}

// VMRecord returns one VM record (HANDLE_INVALID when ref is gone).
func (c *Client) VMRecord(ctx context.Context, ref VMRef) (VM, error) {
	return getRecord(ctx, c, "VM", ref, decodeVM)
}

// VDIRecord returns one VDI record.
func (c *Client) VDIRecord(ctx context.Context, ref VDIRef) (VDI, error) {
	return getRecord(ctx, c, "VDI", ref, decodeVDI)
}

// VBDRecord returns one VBD record.
func (c *Client) VBDRecord(ctx context.Context, ref VBDRef) (VBD, error) {
	return getRecord(ctx, c, "VBD", ref, decodeVBD)
}

// SRRecord returns one SR record.
func (c *Client) SRRecord(ctx context.Context, ref SRRef) (SR, error) {
	return getRecord(ctx, c, "SR", ref, decodeSR)
}

// HostRecord returns one host record.
func (c *Client) HostRecord(ctx context.Context, ref HostRef) (Host, error) {
	return getRecord(ctx, c, "host", ref, decodeHost)
}

// NetworkRecord returns one network record.
func (c *Client) NetworkRecord(ctx context.Context, ref NetworkRef) (Network, error) {
	return getRecord(ctx, c, "network", ref, decodeNetwork)
}

// TaskRecord returns one task record.
func (c *Client) TaskRecord(ctx context.Context, ref TaskRef) (Task, error) {
	return getRecord(ctx, c, "task", ref, decodeTask)
}

// VMByUUID returns the VM with that uuid (UUID_INVALID when none).
func (c *Client) VMByUUID(ctx context.Context, uuid string) (VMRef, error) {
	return getByUUID[VMRef](ctx, c, "VM", uuid)
}

// VDIByUUID returns the VDI with that uuid.
func (c *Client) VDIByUUID(ctx context.Context, uuid string) (VDIRef, error) {
	return getByUUID[VDIRef](ctx, c, "VDI", uuid)
}

// SRByUUID returns the SR with that uuid.
func (c *Client) SRByUUID(ctx context.Context, uuid string) (SRRef, error) {
	return getByUUID[SRRef](ctx, c, "SR", uuid)
}
