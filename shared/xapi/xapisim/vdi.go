package xapisim

func (s *Server) vdiMethods(r registry) {
	r.add("VDI.destroy", 1, s.withObj("VDI", s.vdiDestroy), asyncMode)
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
