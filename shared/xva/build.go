package xva

import (
	"fmt"
	"maps"
	"strings"
	"time"
)

// Record is an API object as XAPI's get_record returns it: its OpaqueRef
// and its fields.
type Record struct {
	Ref    string
	Fields map[string]any
}

// ExportSet is what an export of one VM carries: the VM, all its VBDs (CD
// drives included), their VDIs (the CD's ISO VDI too), those VDIs' SRs, and
// optionally its VIFs and their networks.
type ExportSet struct {
	VM       Record
	VBDs     []Record
	VIFs     []Record
	Networks []Record
	VDIs     []Record
	SRs      []Record
	// PreservePowerState keeps the VM's power_state (export with
	// preserve_power_state=true); otherwise it is written as Halted.
	PreservePowerState bool
}

const nullRef = "OpaqueRef:NULL"

// BuildHeader builds ova.xml for a VM export as XAPI's export.ml does:
// objects in make_all's order (VM, VBDs, VIFs, networks, VDIs, SRs) with ids
// Ref:0, Ref:1, …; every OpaqueRef rewritten to the id of its exported
// object, or OpaqueRef:NULL when that object is not exported (refs inside
// arrays are dropped instead, which filters VM.VBDs, VDI.VBDs, SR.VDIs and
// the like); and the record rewrites of make_vm, make_vbd and make_sr. The
// records in set are not modified. It fails if a disk VBD's VDI or a VDI's
// SR is missing from the set.
func BuildHeader(v Version, set ExportSet) (*Header, error) {
	groups := []struct {
		class string
		recs  []Record
	}{{"VM", []Record{set.VM}}, {"VBD", set.VBDs}, {"VIF", set.VIFs}, {"network", set.Networks},
		{"VDI", set.VDIs}, {"SR", set.SRs}}
	ids := map[string]string{}
	for _, g := range groups {
		for _, r := range g.recs {
			if !strings.HasPrefix(r.Ref, "OpaqueRef:") || r.Ref == nullRef {
				return nil, fmt.Errorf("xva: build ova.xml: %s ref %q is not an OpaqueRef", g.class, r.Ref)
			}
			if _, dup := ids[r.Ref]; dup {
				return nil, fmt.Errorf("xva: build ova.xml: %s %s given twice", g.class, r.Ref)
			}
			ids[r.Ref] = fmt.Sprintf("Ref:%d", len(ids))
		}
	}
	h := &Header{Version: v}
	for _, g := range groups {
		for _, r := range g.recs {
			snap := map[string]any{}
			if r.Fields != nil {
				snap = rewriteRefs(r.Fields, ids).(map[string]any)
			}
			exportRewrites(g.class, snap, set.PreservePowerState)
			h.Objects = append(h.Objects, Object{Class: g.class, ID: ids[r.Ref], Snapshot: snap})
		}
	}
	if _, err := h.Disks(); err != nil {
		return nil, err
	}
	return h, nil
}

// rewriteRefs returns a deep copy of v with refs mapped to export ids.
func rewriteRefs(v any, ids map[string]string) any {
	switch x := v.(type) {
	case string:
		if !strings.HasPrefix(x, "OpaqueRef:") {
			return x
		}
		if id, ok := ids[x]; ok {
			return id
		}
		return nullRef
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok && strings.HasPrefix(s, "OpaqueRef:") && ids[s] == "" {
				continue
			}
			out = append(out, rewriteRefs(e, ids))
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return rewriteRefs(out, ids)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = rewriteRefs(e, ids)
		}
		return out
	case map[string]string:
		return maps.Clone(x)
	}
	return v
}

// exportRewrites applies export.ml's per-class changes (make_vm, make_vbd,
// make_sr).
func exportRewrites(class string, s map[string]any, preservePower bool) {
	var set map[string]any
	switch class {
	case "VM":
		set = map[string]any{"is_a_snapshot": false, "snapshot_of": nullRef, "snapshots": []any{},
			"snapshot_time": time.Unix(0, 0).UTC(), "parent": nullRef,
			"current_operations": map[string]any{}, "allowed_operations": []any{}}
		if !preservePower {
			set["power_state"] = "Halted"
		}
	case "VBD":
		set = map[string]any{"currently_attached": false, "metrics": nullRef}
	case "SR":
		set = map[string]any{"PBDs": []any{}}
	}
	maps.Copy(s, set)
}
