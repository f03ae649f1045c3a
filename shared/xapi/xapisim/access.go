package xapisim

import (
	"fmt"
	"io"
	"sort"
)

// VMInfo summarises a VM for test assertions.
type VMInfo struct {
	Ref        string
	UUID       string
	NameLabel  string
	PowerState string
	IsSnapshot bool
	IsTemplate bool
	SnapshotOf string
	VDIs       []string // disk VDIs (non-CD, non-empty VBDs), by userdevice
}

// Credentials returns the user and password logins must use.
func (s *Server) Credentials() (user, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opts.User, s.opts.Password
}

// PoolRef, HostRef and SRRef name the pool's singletons.
func (s *Server) PoolRef() string { return s.pool }
func (s *Server) HostRef() string { return s.host }
func (s *Server) SRRef() string   { return s.sr }

// VMs returns every VM except dom0 and the default templates: ordinary VMs,
// snapshots and imported VMs, in creation order.
func (s *Server) VMs() []VMInfo {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	var out []VMInfo
	for _, o := range s.st.all("VM") {
		if o.flag("is_control_domain") || o.flag("is_default_template") {
			continue
		}
		out = append(out, s.vmInfo(o))
	}
	return out
}

// Snapshots returns every snapshot VM of the pool (a leak check for tests).
func (s *Server) Snapshots() []VMInfo {
	var out []VMInfo
	for _, vm := range s.VMs() {
		if vm.IsSnapshot {
			out = append(out, vm)
		}
	}
	return out
}

// VM returns one VM by ref.
func (s *Server) VM(ref string) (VMInfo, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	o, err := s.st.get("VM", ref)
	if err != nil {
		return VMInfo{}, err
	}
	return s.vmInfo(o), nil
}

func (s *Server) vmInfo(o *object) VMInfo {
	info := VMInfo{Ref: o.ref, UUID: o.str("uuid"), NameLabel: o.str("name_label"),
		PowerState: o.str("power_state"), IsSnapshot: o.flag("is_a_snapshot"),
		IsTemplate: o.flag("is_a_template"), SnapshotOf: o.str("snapshot_of")}
	var vbds []*object
	for _, ref := range o.refs("VBDs") {
		if vbd, err := s.st.get("VBD", ref); err == nil && vbd.str("type") != "CD" && !vbd.flag("empty") {
			vbds = append(vbds, vbd)
		}
	}
	sort.Slice(vbds, func(i, j int) bool { return vbdIndex(vbds[i]) < vbdIndex(vbds[j]) })
	for _, vbd := range vbds {
		info.VDIs = append(info.VDIs, vbd.str("VDI"))
	}
	return info
}

// Refs returns the refs of every object of class ("VM", "VDI", "task", …).
func (s *Server) Refs(class string) []string {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	var out []string
	for _, o := range s.st.all(class) {
		out = append(out, o.ref)
	}
	return out
}

// Record returns a copy of one object's record.
func (s *Server) Record(class, ref string) (map[string]any, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	o, err := s.st.get(class, ref)
	if err != nil {
		return nil, err
	}
	return snapshot(o.rec), nil
}

// VDIContent streams a VDI's content (virtual_size bytes).
func (s *Server) VDIContent(ref string) (io.Reader, int64, error) {
	k, ok := s.disks.get(ref)
	if !ok {
		return nil, 0, fmt.Errorf("xapisim: VDI %s: %w", ref, handleInvalid("VDI", ref))
	}
	return k.reader(), k.size, nil
}

// SetPowerState forces a VM's power state (Halted, Running, Paused, Suspended).
func (s *Server) SetPowerState(ref, state string) error {
	switch state {
	case "Halted", "Running", "Paused", "Suspended":
	default:
		return fmt.Errorf("xapisim: power state %q: want Halted, Running, Paused or Suspended", state)
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	o, err := s.st.get("VM", ref)
	if err != nil {
		return err
	}
	s.setPowerState(o, state)
	return nil
}

// AddVM creates another VM with the pool's disk layout and returns its ref.
func (s *Server) AddVM(name string, running bool) string {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	vm := s.createVM(name, len(s.st.byClass["VM"])+1000, s.sr)
	if running {
		s.setPowerState(vm, "Running")
	}
	return vm.ref
}
