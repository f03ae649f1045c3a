package xapisim

import "strconv"

func (s *Server) vdiMethods(r registry) {
	r.add("VDI.destroy", 1, s.withObj("VDI", s.vdiDestroy), asyncMode)
	r.add("VDI.resize", 2, s.withObj("VDI", s.vdiResize), asyncMode)
}

// vdiResize grows a disk as SM's resize does: never a snapshot or a
// cbt_metadata VDI, never smaller (SR_BACKEND_FAILURE_79), the new bytes
// read as zeros, and a tracked disk's CBT log grows with it (SM resizes
// the log), so the bitmap covers the new size. Snapshots keep their size.
func (s *Server) vdiResize(c *call, vdi *object) (any, error) {
	arg, err := c.str(1)
	if err != nil {
		return nil, err
	}
	size, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || size <= 0 {
		return nil, fail("FIELD_TYPE_ERROR", "size")
	}
	switch {
	case vdi.flag("is_a_snapshot") || vdi.str("type") == "cbt_metadata":
		return nil, fail("OPERATION_NOT_ALLOWED", "VDI.resize of a snapshot or metadata VDI: "+vdi.ref)
	case size < vdi.num("virtual_size"):
		return nil, fail("SR_BACKEND_FAILURE_79", "", "VDI Invalid size [opterr=shrinking not allowed]", "")
	case size == vdi.num("virtual_size"):
		return "", nil
	}
	if err := s.disks.grow(vdi.ref, size); err != nil {
		return nil, fail("VDI_IO_ERROR", err.Error())
	}
	if l := s.cbt[vdi.ref]; l != nil {
		l.or(newCBTLog(size).bits)
	}
	s.st.set(vdi, "virtual_size", size)
	if sr, err := s.st.get("SR", vdi.str("SR")); err == nil {
		s.accountSR(sr)
	}
	return "", nil
}

// vdiDestroy removes the VDI and every VBD that points to it; it refuses an
// attached VDI with VDI_IN_USE.
func (s *Server) vdiDestroy(c *call, vdi *object) (any, error) {
	for _, ref := range vdi.refs("VBDs") {
		if vbd, err := s.st.get("VBD", ref); err == nil && vbd.flag("currently_attached") {
			return nil, fail("VDI_IN_USE", vdi.ref, "destroy")
		}
	}
	if len(vdi.smap("current_operations")) > 0 {
		return nil, fail("VDI_IN_USE", vdi.ref, "destroy")
	}
	s.destroyVDI(vdi)
	return "", nil
}

// destroyVDI unlinks and removes vdi and drops its content; st.mu is held.
func (s *Server) destroyVDI(vdi *object) {
	for _, ref := range vdi.refs("VBDs") {
		if vbd, err := s.st.get("VBD", ref); err == nil {
			s.destroyVBD(vbd)
		}
	}
	if orig, err := s.st.get("VDI", vdi.str("snapshot_of")); err == nil {
		s.st.removeFromSet(orig, "snapshots", vdi.ref)
	}
	for _, ref := range vdi.refs("snapshots") {
		if snap, err := s.st.get("VDI", ref); err == nil {
			s.st.set(snap, "snapshot_of", nullRef)
		}
	}
	s.cbtForget(vdi.ref)
	s.st.del(vdi)
	if sr, err := s.st.get("SR", vdi.str("SR")); err == nil {
		s.st.removeFromSet(sr, "VDIs", vdi.ref)
		s.accountSR(sr)
	}
	if err := s.disks.drop(vdi.ref); err != nil {
		s.log.Warn("xapisim: drop disk content", "vdi", vdi.ref, "err", err)
	}
}
