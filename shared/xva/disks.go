package xva

import (
	"slices"
	"strings"

	"xbr/shared/xapi/xmlrpc"
)

// DiskRef is a disk the archive carries: its export id, its size in bytes
// (the VDI's virtual_size) and its VDI record from ova.xml.
type DiskRef struct {
	ID   string
	Size int64
	VDI  map[string]any
}

// Disks returns the VDIs whose chunks the importer expects, in stream order,
// as XAPI's import.ml non_cdrom_vdis and stream_vdi.ml vdi_ordering define
// them: VDIs referenced by a VBD whose type is not "CD" and whose SR's
// content_type is not "iso", plus every VDI of type "suspend", sorted by id
// as strings ("Ref:10" before "Ref:9").
func (h *Header) Disks() ([]DiskRef, error) {
	byID := make(map[string]*Object, len(h.Objects))
	for i := range h.Objects {
		byID[h.Objects[i].ID] = &h.Objects[i]
	}
	wanted, err := h.diskVDIs(byID)
	if err != nil {
		return nil, err
	}
	var disks []DiskRef
	for _, o := range h.Objects {
		if o.Class != "VDI" {
			continue
		}
		typ, _ := xmlrpc.AsString(o.Snapshot["type"])
		if !wanted[o.ID] && typ != "suspend" {
			continue
		}
		size, ok := xmlrpc.AsInt(o.Snapshot["virtual_size"])
		if !ok || size < 0 {
			return nil, formatErr("ova.xml: VDI %s: virtual_size: %s is not a size", o.ID, describeValue(o.Snapshot["virtual_size"]))
		}
		disks = append(disks, DiskRef{ID: o.ID, Size: size, VDI: o.Snapshot})
	}
	slices.SortFunc(disks, func(a, b DiskRef) int { return strings.Compare(a.ID, b.ID) })
	return disks, nil
}

// diskVDIs returns the ids of VDIs behind non-CD VBDs on non-ISO SRs.
func (h *Header) diskVDIs(byID map[string]*Object) (map[string]bool, error) {
	wanted := map[string]bool{}
	for _, vbd := range h.Objects {
		if vbd.Class != "VBD" {
			continue
		}
		typ, ok := xmlrpc.AsString(vbd.Snapshot["type"])
		if !ok {
			return nil, formatErr("ova.xml: VBD %s: type: %s is not a string", vbd.ID, describeValue(vbd.Snapshot["type"]))
		}
		if typ == "CD" {
			continue
		}
		vdiID, _ := xmlrpc.AsString(vbd.Snapshot["VDI"])
		vdi := byID[vdiID]
		if vdi == nil || vdi.Class != "VDI" {
			return nil, formatErr("ova.xml: VBD %s: VDI: %s is not a VDI of the export", vbd.ID, describeValue(vbd.Snapshot["VDI"]))
		}
		srID, _ := xmlrpc.AsString(vdi.Snapshot["SR"])
		sr := byID[srID]
		if sr == nil || sr.Class != "SR" {
			return nil, formatErr("ova.xml: VDI %s: SR: %s is not an SR of the export", vdi.ID, describeValue(vdi.Snapshot["SR"]))
		}
		if ct, _ := xmlrpc.AsString(sr.Snapshot["content_type"]); ct != "iso" {
			wanted[vdi.ID] = true
		}
	}
	return wanted, nil
}
