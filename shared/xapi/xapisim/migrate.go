package xapisim

import (
	"maps"

	"github.com/google/uuid"
)

// vdiPoolMigrate implements VDI.pool_migrate(vdi, sr, options), a live
// storage migration of one disk of a running VM (xen-api
// ocaml/xapi/xapi_vm_migrate.ml vdi_pool_migrate): refused on cbt_metadata
// (VDI_INCOMPATIBLE_TYPE) and while CBT is on (VDI_CBT_ENABLED), which is
// why Xen Orchestra disables CBT first and the next backup starts a new
// chain. The disk moves to a new VDI on sr (a new uuid, the VBDs and
// snapshots follow it) and the new VDI is returned. The simulator does not
// move the VM between hosts.
func (s *Server) vdiPoolMigrate(c *call, vdi *object) (any, error) {
	sr, err := c.obj(1, "SR")
	if err != nil {
		return nil, err
	}
	if err := refuseMetadata(vdi); err != nil {
		return nil, err
	}
	if vdi.flag("cbt_enabled") {
		return nil, fail("VDI_CBT_ENABLED", vdi.ref)
	}
	if !s.attached(vdi) {
		return nil, fail("VDI_NEEDS_VM_FOR_MIGRATE", vdi.ref)
	}
	rec := snapshot(vdi.rec)
	maps.Copy(rec, map[string]any{"uuid": uuid.NewString(), "location": uuid.NewString(), "SR": sr.ref,
		"VBDs": set(), "current_operations": smap{}})
	moved := s.st.add("VDI", rec)
	s.disks.share(moved.ref, vdi.ref)
	for _, ref := range vdi.refs("VBDs") {
		if vbd, err := s.st.get("VBD", ref); err == nil {
			s.st.set(vbd, "VDI", moved.ref)
		}
	}
	for _, ref := range vdi.refs("snapshots") {
		if snap, err := s.st.get("VDI", ref); err == nil {
			s.st.set(snap, "snapshot_of", moved.ref)
		}
	}
	s.st.set(moved, "VBDs", vdi.refs("VBDs"))
	vdi.rec["VBDs"], vdi.rec["snapshots"] = set(), set()
	s.destroyVDI(vdi)
	s.attachSR(sr, moved)
	return moved.ref, nil
}
