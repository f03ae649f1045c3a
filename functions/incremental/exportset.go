package incremental

import (
	"context"
	"fmt"

	"xbr/shared/xapi"
	"xbr/shared/xva"
)

// pointDisk is one disk of the snapshot as the point stores it.
type pointDisk struct {
	rec  xva.RepoDisk // name (export id), snapshot and source VDI, userdevice
	vdi  xapi.VDIRef  // the snapshot VDI
	size int64
}

// header reads the snapshot's ExportSet with per-object calls (the VM, its
// VBDs, VDIs, SRs, VIFs and networks) and returns its ova.xml and disks in
// Header.Disks order.
func header(ctx context.Context, c *xapi.Client, snap xapi.VMRef) ([]byte, []pointDisk, error) {
	set, devices, err := exportSet(ctx, c, snap)
	if err != nil {
		return nil, nil, err
	}
	v, err := version(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	h, err := xva.BuildHeader(v, set)
	if err != nil {
		return nil, nil, err
	}
	ova, err := h.MarshalOVA()
	if err != nil {
		return nil, nil, err
	}
	refs, err := h.Disks()
	if err != nil {
		return nil, nil, err
	}
	disks := make([]pointDisk, 0, len(refs))
	for _, d := range refs {
		uuid, _ := d.VDI["uuid"].(string)
		ref, err := c.VDIByUUID(ctx, uuid)
		if err != nil {
			return nil, nil, fmt.Errorf("snapshot disk %s: %w", uuid, err)
		}
		rec, err := c.VDIRecord(ctx, ref)
		if err != nil {
			return nil, nil, fmt.Errorf("snapshot disk %s: %w", uuid, err)
		}
		src, err := c.VDIRecord(ctx, rec.SnapshotOf)
		if err != nil {
			return nil, nil, fmt.Errorf("snapshot disk %s: its source VDI: %w", uuid, err)
		}
		disks = append(disks, pointDisk{vdi: ref, size: d.Size, rec: xva.RepoDisk{Name: d.ID, SnapshotVDI: uuid,
			SourceVDI: src.UUID, Userdevice: devices[ref]}})
	}
	return ova, disks, nil
}

// exportSet fetches the records of the snapshot's export, and the
// userdevice of each disk VDI.
func exportSet(ctx context.Context, c *xapi.Client, snap xapi.VMRef) (xva.ExportSet, map[xapi.VDIRef]string, error) {
	vm, err := record(ctx, c, "VM", string(snap))
	if err != nil {
		return xva.ExportSet{}, nil, err
	}
	set := xva.ExportSet{VM: vm}
	seen, devices := map[string]bool{}, map[xapi.VDIRef]string{}
	for _, vbdRef := range refsOf(vm.Fields["VBDs"]) {
		vbd, err := record(ctx, c, "VBD", vbdRef)
		if err != nil {
			return xva.ExportSet{}, nil, err
		}
		set.VBDs = append(set.VBDs, vbd)
		vdiRef, _ := vbd.Fields["VDI"].(string)
		if xapi.Ref(vdiRef).IsNull() || seen[vdiRef] {
			continue
		}
		seen[vdiRef] = true
		if vbd.Fields["type"] == "Disk" {
			devices[xapi.VDIRef(vdiRef)], _ = vbd.Fields["userdevice"].(string)
		}
		vdi, err := record(ctx, c, "VDI", vdiRef)
		if err != nil {
			return xva.ExportSet{}, nil, err
		}
		set.VDIs = append(set.VDIs, vdi)
		if sr, _ := vdi.Fields["SR"].(string); !seen[sr] {
			seen[sr] = true
			rec, err := record(ctx, c, "SR", sr)
			if err != nil {
				return xva.ExportSet{}, nil, err
			}
			set.SRs = append(set.SRs, rec)
		}
	}
	if err := addVIFs(ctx, c, &set, seen); err != nil {
		return xva.ExportSet{}, nil, err
	}
	return set, devices, nil
}

// addVIFs adds the VM's VIFs and their networks.
func addVIFs(ctx context.Context, c *xapi.Client, set *xva.ExportSet, seen map[string]bool) error {
	for _, vifRef := range refsOf(set.VM.Fields["VIFs"]) {
		vif, err := record(ctx, c, "VIF", vifRef)
		if err != nil {
			return err
		}
		set.VIFs = append(set.VIFs, vif)
		if nw, _ := vif.Fields["network"].(string); !xapi.Ref(nw).IsNull() && !seen[nw] {
			seen[nw] = true
			rec, err := record(ctx, c, "network", nw)
			if err != nil {
				return err
			}
			set.Networks = append(set.Networks, rec)
		}
	}
	return nil
}

// record is one object's raw get_record.
func record(ctx context.Context, c *xapi.Client, class, ref string) (xva.Record, error) {
	v, err := c.Call(ctx, class+".get_record", ref)
	if err != nil {
		return xva.Record{}, fmt.Errorf("read %s %s: %w", class, ref, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return xva.Record{}, fmt.Errorf("read %s %s: the record is not a struct", class, ref)
	}
	return xva.Record{Ref: ref, Fields: m}, nil
}

func refsOf(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// version is ova.xml's version struct, from the pool master as XAPI
// writes it.
func version(ctx context.Context, c *xapi.Client) (xva.Version, error) {
	_, pool, err := c.Pool(ctx)
	if err != nil {
		return xva.Version{}, fmt.Errorf("read pool: %w", err)
	}
	h, err := c.HostRecord(ctx, pool.Master)
	if err != nil {
		return xva.Version{}, fmt.Errorf("read pool master: %w", err)
	}
	sv := h.SoftwareVersion
	return xva.Version{Hostname: h.Hostname, Date: sv["date"], ProductVersion: sv["product_version"],
		ProductBrand: sv["product_brand"], BuildNumber: sv["build_number"], XapiMajor: h.APIVersionMajor,
		XapiMinor: h.APIVersionMinor, ExportVsn: 2}, nil
}
