package xapisim

import (
	"maps"

	"github.com/google/uuid"
)

// vmClone implements VM.clone (session, vm, new_name) of a halted VM or
// template, with xapi_vm_clone.ml's effects: a new VM of the same
// configuration (not a snapshot, not a template unless the source is one),
// its disks copy-on-write clones of the source's on the same SR.
func (s *Server) vmClone(c *call, vm *object) (any, error) {
	name, err := c.str(1)
	if err != nil {
		return nil, err
	}
	if vm.str("power_state") != "Halted" {
		return nil, fail("VM_BAD_POWER_STATE", vm.ref, "halted", lower(vm.str("power_state")))
	}
	sr, err := s.st.get("SR", s.sr)
	if err != nil {
		return nil, err
	}
	var need int64
	for _, vdi := range s.snapshotDisks(vm, nil) {
		need += vdi.num("virtual_size")
	}
	if err := s.checkSpace(sr, need); err != nil {
		return nil, err
	}
	rec := s.snapshotRecord(vm, name)
	oc := vm.smap("other_config")
	oc["mac_seed"] = uuid.NewString()
	maps.Copy(rec, map[string]any{"is_a_snapshot": false, "is_a_template": vm.flag("is_a_template") && !vm.flag("is_a_snapshot"),
		"snapshot_of": nullRef, "snapshot_time": epoch, "snapshot_info": smap{}, "snapshot_metadata": "",
		"allowed_operations": vmAllowedOps("Halted"), "other_config": oc, "tags": vm.refs("tags"),
		"guest_metrics": nullRef})
	clone := s.st.add("VM", rec)
	for _, ref := range vm.refs("VBDs") {
		if vbd, err := s.st.get("VBD", ref); err == nil {
			s.snapshotVBD(clone, vbd)
		}
	}
	for _, ref := range clone.refs("VBDs") { // the disks are clones, not snapshots
		vbd, _ := s.st.get("VBD", ref)
		if vdi, err := s.st.get("VDI", vbd.str("VDI")); err == nil && vdi.flag("is_a_snapshot") {
			if orig, err := s.st.get("VDI", vdi.str("snapshot_of")); err == nil {
				s.st.removeFromSet(orig, "snapshots", vdi.ref)
			}
			maps.Copy(vdi.rec, map[string]any{"is_a_snapshot": false, "snapshot_of": nullRef, "snapshot_time": epoch})
			s.st.touch(vdi)
		}
	}
	return clone.ref, nil
}
