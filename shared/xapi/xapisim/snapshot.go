package xapisim

import (
	"fmt"
	"maps"
	"slices"

	"github.com/google/uuid"

	"xbr/shared/xapi/xmlrpc"
)

// vmSnapshot implements VM.snapshot (and VM.checkpoint) with the field
// effects of XAPI's xapi_vm_clone.ml (reference §5).
func (s *Server) vmSnapshot(c *call, vm *object) (any, error) {
	name, err := c.str(1)
	if err != nil {
		return nil, err
	}
	var ignore []string
	if len(c.args) > 2 {
		if ignore, err = c.strs(2); err != nil {
			return nil, err
		}
	}
	if err := checkOp(vm, c.name[len("VM."):]); err != nil {
		return nil, err
	}
	disks := s.snapshotDisks(vm, ignore)
	var need int64
	for _, vdi := range disks {
		need += vdi.num("virtual_size")
	}
	sr, err := s.st.get("SR", s.sr)
	if err != nil {
		return nil, err
	}
	if err := s.checkSpace(sr, need); err != nil {
		return nil, err
	}
	snap := s.st.add("VM", s.snapshotRecord(vm, name))
	for _, ref := range vm.refs("VBDs") {
		vbd, err := s.st.get("VBD", ref)
		if err != nil || slices.Contains(ignore, vbd.str("VDI")) {
			continue
		}
		s.snapshotVBD(snap, vbd)
	}
	s.setParent(snap, vm.str("parent"))
	s.setParent(vm, snap.ref)
	s.st.addToSet(vm, "snapshots", snap.ref)
	return snap.ref, nil
}

// snapshotDisks are the VDIs a snapshot of vm copies.
func (s *Server) snapshotDisks(vm *object, ignore []string) []*object {
	var out []*object
	for _, ref := range vm.refs("VBDs") {
		vbd, err := s.st.get("VBD", ref)
		if err != nil || vbd.str("type") != "Disk" || vbd.flag("empty") || slices.Contains(ignore, vbd.str("VDI")) {
			continue
		}
		if vdi, err := s.st.get("VDI", vbd.str("VDI")); err == nil {
			out = append(out, vdi)
		}
	}
	return out
}

// snapshotRecord is the new snapshot VM's record, copied from vm.
func (s *Server) snapshotRecord(vm *object, name string) map[string]any {
	rec := snapshot(vm.rec)
	meta, _ := xmlrpc.Marshal(snapshot(vm.rec))
	oc := vm.smap("other_config")
	delete(oc, "default_template")
	delete(oc, "xensource_internal")
	maps.Copy(rec, map[string]any{
		"uuid": uuid.NewString(), "name_label": name, "is_a_snapshot": true, "is_a_template": true,
		"is_default_template": false, "snapshot_of": vm.ref, "snapshot_time": s.now(), "power_state": "Halted",
		"resident_on": nullRef, "scheduled_to_be_resident_on": nullRef, "domid": int64(-1),
		"snapshot_info": smap{"disk-snapshot-type": "crash_consistent",
			"power-state-at-snapshot": vm.str("power_state")},
		"snapshot_metadata": string(meta), "transportable_snapshot_id": "", "parent": nullRef,
		"other_config": oc, "ha_always_run": false, "version": int64(0), "VBDs": set(), "VIFs": set(),
		"snapshots": set(), "children": set(), "current_operations": smap{}, "consoles": set(),
		"allowed_operations": []string{"clone", "copy", "export", "destroy", "revert", "hard_shutdown"},
		"blocked_operations": smap{},
	})
	return rec
}

// snapshotVBD copies vbd to snap; a disk VBD gets a snapshot of its VDI.
func (s *Server) snapshotVBD(snap, vbd *object) {
	vdiRef := vbd.str("VDI")
	disk := vbd.str("type") == "Disk" && !vbd.flag("empty")
	if disk {
		if vdi, err := s.st.get("VDI", vdiRef); err == nil {
			vdiRef = s.snapshotVDI(vdi).ref
		}
	}
	rec := snapshot(vbd.rec)
	oc := vbd.smap("other_config")
	if disk {
		oc["owner"] = ""
	}
	maps.Copy(rec, map[string]any{"uuid": uuid.NewString(), "VM": snap.ref, "VDI": vdiRef, "device": "",
		"currently_attached": false, "other_config": oc, "current_operations": smap{}})
	n := s.st.add("VBD", rec)
	s.st.addToSet(snap, "VBDs", n.ref)
	if vdi, err := s.st.get("VDI", vdiRef); err == nil {
		s.st.addToSet(vdi, "VBDs", n.ref)
	}
}

// snapshotVDI makes a copy-on-write snapshot of vdi: it shares its content.
// A raw disk's snapshot is raw too (the simulator's liberty: SM's FileSR
// cannot snapshot a raw VDI, but a volume XAPI reads over NBD, as on an
// SMAPIv3 SR, reaches vhd-tool as a raw source all the same).
func (s *Server) snapshotVDI(vdi *object) *object {
	rec := snapshot(vdi.rec)
	smc := smap{"vdi_type": "vhd", "vhd-parent": vdi.str("uuid")}
	if rawBacked(vdi) {
		smc = smap{"type": "raw"}
	}
	maps.Copy(rec, map[string]any{"uuid": uuid.NewString(), "location": uuid.NewString(),
		"is_a_snapshot": true, "snapshot_of": vdi.ref, "snapshot_time": s.now(), "snapshots": set(),
		"VBDs": set(), "current_operations": smap{}, "cbt_enabled": false, "sm_config": smc})
	n := s.st.add("VDI", rec)
	s.disks.share(n.ref, vdi.ref)
	s.cbtSnapshot(vdi, n)
	s.st.addToSet(vdi, "snapshots", n.ref)
	if sr, err := s.st.get("SR", vdi.str("SR")); err == nil {
		s.attachSR(sr, n)
	}
	return n
}

// checkSpace refuses need more bytes on sr with SR_FULL [requested, maximum].
func (s *Server) checkSpace(sr *object, need int64) error {
	free := sr.num("physical_size") - sr.num("virtual_allocation")
	s.mu.Lock()
	full := s.faults.SRFull
	s.mu.Unlock()
	if full {
		free = 0
	}
	if need > free {
		return fail("SR_FULL", fmt.Sprint(need), fmt.Sprint(max(free, 0)))
	}
	return nil
}
