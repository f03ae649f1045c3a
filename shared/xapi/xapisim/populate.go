package xapisim

import "fmt"

// populate creates the pool's singletons, dom0, one default template and the
// ordinary VMs with their disks.
func (s *Server) populate() error {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	for i := range s.opts.Hosts {
		if err := s.addHost(i); err != nil {
			return err
		}
	}
	master := s.hosts[0]
	network := networkRecord()
	if s.opts.NBD != "" {
		network["purpose"] = []string{s.opts.NBD}
	}
	st.add("network", network)
	pool := st.add("pool", poolRecord(s.opts.PoolName, master.ref, master.sr))
	s.pool, s.host, s.sr = pool.ref, master.ref, master.sr

	tpl := vmRecord("Debian Bookworm 12", 2<<30, 2)
	tpl["is_a_template"] = true
	tpl["is_default_template"] = true
	tpl["other_config"] = smap{"default_template": "true", "install-methods": "cdrom,nfs,http,ftp"}
	tpl["allowed_operations"] = []string{"clone", "copy", "export", "provision", "destroy"}
	st.add("VM", tpl)

	n := len(s.hosts)
	for i := range s.opts.VMs {
		// VMs are placed across the hosts, each on its host's local SR,
		// shifted every round so each host gets running and halted ones:
		// with 2 hosts vm-01 and vm-04 on host 1, vm-02 and vm-03 on host 2.
		vm := s.createVM(fmt.Sprintf("vm-%02d", i+1), i, s.hosts[(i+i/n)%n].sr)
		if i%2 == 0 {
			s.setPowerState(vm, "Running")
		}
	}
	return nil
}

// addHost creates host i with its local SR (attached by a PBD), its
// certificate record and its control domain.
func (s *Server) addHost(i int) error {
	st := s.st
	name := fmt.Sprintf("%s-host%d", s.opts.PoolName, i+1)
	cert, err := newHostCert(name, s.now())
	if err != nil {
		return fmt.Errorf("xapisim: certificate of %s: %w", name, err)
	}
	sr := st.add("SR", srRecord("Local storage", s.opts.SRSize))
	host := st.add("host", hostRecord(name, sr.ref))
	host.rec["software_version"].(smap)["xapi"] = s.opts.XapiVersion
	pbd := st.add("PBD", pbdRecord(host.ref, sr.ref))
	st.addToSet(sr, "PBDs", pbd.ref)
	st.addToSet(host, "PBDs", pbd.ref)
	c := st.add("Certificate", certificateRecord(host.ref, cert))
	st.addToSet(host, "certificates", c.ref)
	s.hosts = append(s.hosts, simHost{ref: host.ref, sr: sr.ref, cert: cert})

	dom0 := vmRecord("Control domain on host: "+name, 4<<30, 4)
	dom0["is_control_domain"] = true
	dom0["domain_type"] = "pv"
	dom0["other_config"] = smap{"storage_driver_domain": nullRef, "is_system_domain": "true"}
	dom0["reference_label"] = ""
	dom0["power_state"] = "Running"
	dom0["allowed_operations"] = vmAllowedOps("Running")
	dom0["resident_on"] = host.ref
	dom0["domid"] = int64(0)
	d := st.add("VM", dom0)
	st.addToSet(host, "resident_VMs", d.ref)
	st.set(host, "control_domain", d.ref)
	return nil
}

// createVM adds a halted VM with its generated disks and an empty CD drive.
func (s *Server) createVM(name string, index int, srRef string) *object {
	st := s.st
	vm := st.add("VM", vmRecord(name, 2<<30, 2))
	sr, _ := st.get("SR", srRef)
	for d := range s.opts.DisksPerVM {
		seed := contentSeed(s.opts.Seed, index, d)
		if s.opts.SameContent {
			seed = contentSeed(s.opts.Seed, 0, d) // clones of one template
		}
		src := newGenSource(seed, s.pat)
		used := src.allocated(s.opts.DiskSize)
		rec := vdiRecord(fmt.Sprintf("%s disk %d", name, d), sr.ref, s.opts.DiskSize, used)
		if s.opts.RawDisks {
			rec["sm_config"] = smap{"type": "raw"}
		}
		vdi := st.add("VDI", rec)
		s.disks.put(vdi.ref, s.opts.DiskSize, src)
		s.attachSR(sr, vdi)
		s.addVBD(vm, vdi.ref, fmt.Sprint(d), "Disk", d == 0)
	}
	s.addVBD(vm, nullRef, "3", "CD", false)
	return vm
}

// contentSeed derives a disk's content seed from the pool seed and its position.
func contentSeed(seed uint64, vm, disk int) uint64 {
	return mix64(seed^mix64(uint64(vm)<<24|uint64(disk)+1)) | 1
}

// addVBD creates a VBD from vm to vdi and links both ends.
func (s *Server) addVBD(vm *object, vdi, userdevice, typ string, bootable bool) *object {
	vbd := s.st.add("VBD", vbdRecord(vm.ref, vdi, userdevice, typ, bootable))
	s.st.addToSet(vm, "VBDs", vbd.ref)
	if v, err := s.st.get("VDI", vdi); err == nil {
		s.st.addToSet(v, "VBDs", vbd.ref)
	}
	return vbd
}

// attachSR records vdi in sr's VDIs and allocation.
func (s *Server) attachSR(sr, vdi *object) {
	s.st.addToSet(sr, "VDIs", vdi.ref)
	s.accountSR(sr)
}

// accountSR recomputes the SR's allocation from its VDIs.
func (s *Server) accountSR(sr *object) {
	var virt, phys int64
	for _, ref := range sr.refs("VDIs") {
		if v, err := s.st.get("VDI", ref); err == nil {
			virt += v.num("virtual_size")
			phys += v.num("physical_utilisation")
		}
	}
	sr.rec["virtual_allocation"] = virt
	s.st.set(sr, "physical_utilisation", phys)
}

// setPowerState moves vm to state with the side effects XAPI has.
func (s *Server) setPowerState(vm *object, state string) {
	vm.rec["power_state"] = state
	vm.rec["allowed_operations"] = vmAllowedOps(state)
	running := state == "Running" || state == "Paused"
	if old, err := s.st.get("host", vm.str("resident_on")); err == nil {
		s.st.removeFromSet(old, "resident_VMs", vm.ref)
	}
	if running {
		host, _ := s.st.get("host", s.residentHost(vm))
		vm.rec["resident_on"] = host.ref
		vm.rec["domid"] = int64(vm.created%1000 + 1)
		s.st.addToSet(host, "resident_VMs", vm.ref)
	} else {
		vm.rec["resident_on"] = nullRef
		vm.rec["domid"] = int64(-1)
	}
	for _, ref := range vm.refs("VBDs") {
		if vbd, err := s.st.get("VBD", ref); err == nil && !vbd.flag("empty") {
			vbd.rec["device"] = map[bool]string{true: "xvd" + string(rune('a'+vbdIndex(vbd))), false: ""}[running]
			s.st.set(vbd, "currently_attached", running)
		}
	}
	s.st.touch(vm)
}

func vbdIndex(vbd *object) int {
	var n int
	fmt.Sscan(vbd.str("userdevice"), &n)
	return n
}
