package xapisim

import (
	"slices"
	"strings"
)

// opStates are the power states each VM operation is allowed in (nil: any).
var opStates = map[string][]string{
	"start":          {"Halted"},
	"clean_shutdown": {"Running"},
	"hard_shutdown":  {"Paused", "Suspended", "Running"},
	"destroy":        {"Halted", "Suspended"},
	"export":         {"Halted", "Suspended"},
	"snapshot":       nil,
	"checkpoint":     {"Running", "Halted", "Suspended"},
}

// snapshotOps and templateOps are what snapshots and templates allow.
var (
	snapshotOps = []string{"revert", "clone", "copy", "export", "destroy", "hard_shutdown", "metadata_export"}
	templateOps = []string{"clone", "copy", "export", "destroy", "provision", "metadata_export"}
)

// checkOp applies XAPI's VM operation checks in their fixed order.
func checkOp(vm *object, op string) error {
	if _, blocked := vm.smap("blocked_operations")[op]; blocked {
		return fail("OPERATION_BLOCKED", vm.ref, vm.smap("blocked_operations")[op])
	}
	state := vm.str("power_state")
	if allowed := opStates[op]; allowed != nil && !slices.Contains(allowed, state) {
		want := make([]string, len(allowed))
		for i, a := range allowed {
			want[i] = lower(a)
		}
		return fail("VM_BAD_POWER_STATE", vm.ref, strings.Join(want, ", "), lower(state))
	}
	for task, other := range vm.smap("current_operations") {
		if other != "export" || op != "export" {
			return fail("OTHER_OPERATION_IN_PROGRESS", "VM", vm.ref, other, task)
		}
	}
	if vm.flag("is_a_template") && !vm.flag("is_a_snapshot") && !slices.Contains(templateOps, op) {
		return fail("VM_IS_TEMPLATE", vm.ref, op)
	}
	if vm.flag("is_a_snapshot") && !slices.Contains(snapshotOps, op) {
		return fail("VM_IS_SNAPSHOT", vm.ref, op)
	}
	return nil
}

func (s *Server) vmMethods(r registry) {
	// ignore_vdis is a versioned parameter added in xapi 21.4.0
	// (xen-api ocaml/idl/datamodel_vm.ml, snapshot): an older xapi takes
	// exactly (session, vm, new_name) and answers
	// MESSAGE_PARAMETER_COUNT_MISMATCH to a fourth parameter.
	if versionAtLeast(s.opts.XapiVersion, 21, 4) {
		r.add("VM.snapshot", 2, s.withObj("VM", s.vmSnapshot), asyncMode, withDefaults([]any{}))
	} else {
		r.add("VM.snapshot", 2, s.withObj("VM", s.vmSnapshot), asyncMode)
	}
	r.add("VM.checkpoint", 2, s.withObj("VM", s.vmSnapshot), asyncMode)
	r.add("VM.snapshot_with_quiesce", 2, nil, asyncMode, func(m *method) { m.removed = true })
	r.add("VM.destroy", 1, s.withObj("VM", s.vmDestroy), asyncMode)
	r.add("VM.clone", 2, s.withObj("VM", s.vmClone), asyncMode)
	r.add("VM.start", 3, s.powerOp("start", "Running"), asyncMode)
	r.add("VM.clean_shutdown", 1, s.powerOp("clean_shutdown", "Halted"), asyncMode)
	r.add("VM.hard_shutdown", 1, s.powerOp("hard_shutdown", "Halted"), asyncMode)
	r.add("VM.set_is_a_template", 2, s.withObj("VM", func(c *call, vm *object) (any, error) {
		v, err := c.boolean(1)
		if err != nil {
			return nil, err
		}
		if v && vm.str("power_state") != "Halted" {
			return nil, fail("VM_BAD_POWER_STATE", vm.ref, "halted", lower(vm.str("power_state")))
		}
		s.st.set(vm, "is_a_template", v)
		return "", nil
	}))
	r.add("VM.set_ha_restart_priority", 2, s.withObj("VM", s.vmSetHARestartPriority))
}

// vmSetHARestartPriority takes what XAPI takes: "restart", "best-effort",
// or "" (not protected by HA). The pool's HA plan is not simulated.
func (s *Server) vmSetHARestartPriority(c *call, vm *object) (any, error) {
	v, err := c.str(1)
	if err != nil {
		return nil, err
	}
	if !slices.Contains([]string{"", "restart", "best-effort"}, v) {
		return nil, fail("INVALID_VALUE", "ha_restart_priority", v)
	}
	s.st.set(vm, "ha_restart_priority", v)
	return "", nil
}

func (s *Server) powerOp(op, to string) handlerFunc {
	return s.withObj("VM", func(c *call, vm *object) (any, error) {
		if err := checkOp(vm, op); err != nil {
			return nil, err
		}
		if op == "start" {
			if paused, err := c.boolean(1); err != nil {
				return nil, err
			} else if paused {
				to = "Paused"
			}
		}
		s.setPowerState(vm, to)
		if to == "Running" {
			s.bootGuest(vm)
		} else if to == "Halted" {
			s.dropGuestMetrics(vm)
		}
		return "", nil
	})
}

// vmDestroy removes the VM, its VBDs and its links, but leaves its VDIs (§5).
func (s *Server) vmDestroy(c *call, vm *object) (any, error) {
	if vm.flag("is_control_domain") {
		return nil, fail("OPERATION_NOT_ALLOWED", "Cannot destroy a control domain")
	}
	if err := checkOp(vm, "destroy"); err != nil {
		return nil, err
	}
	for _, ref := range vm.refs("VBDs") {
		if vbd, err := s.st.get("VBD", ref); err == nil {
			s.destroyVBD(vbd)
		}
	}
	if orig, err := s.st.get("VM", vm.str("snapshot_of")); err == nil {
		s.st.removeFromSet(orig, "snapshots", vm.ref)
	}
	for _, ref := range vm.refs("snapshots") {
		if snap, err := s.st.get("VM", ref); err == nil {
			s.st.set(snap, "snapshot_of", nullRef)
		}
	}
	for _, ref := range vm.refs("children") {
		if child, err := s.st.get("VM", ref); err == nil {
			s.setParent(child, nullRef)
		}
	}
	s.setParent(vm, nullRef)
	s.dropGuestMetrics(vm)
	if host, err := s.st.get("host", vm.str("resident_on")); err == nil {
		s.st.removeFromSet(host, "resident_VMs", vm.ref)
	}
	s.st.del(vm)
	return "", nil
}

// destroyVBD removes a VBD and unlinks it from its VM and VDI.
func (s *Server) destroyVBD(vbd *object) {
	if vm, err := s.st.get("VM", vbd.str("VM")); err == nil {
		s.st.removeFromSet(vm, "VBDs", vbd.ref)
	}
	if vdi, err := s.st.get("VDI", vbd.str("VDI")); err == nil {
		s.st.removeFromSet(vdi, "VBDs", vbd.ref)
	}
	s.st.del(vbd)
}

// setParent sets vm.parent and keeps the parents' children in step.
func (s *Server) setParent(vm *object, parent string) {
	if old, err := s.st.get("VM", vm.str("parent")); err == nil {
		s.st.removeFromSet(old, "children", vm.ref)
	}
	s.st.set(vm, "parent", parent)
	if p, err := s.st.get("VM", parent); err == nil {
		s.st.addToSet(p, "children", vm.ref)
	}
}
