package xapisim

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Guest behaviours a started VM can have (Options.Health, the /sim/ fault
// endpoints), for testing what boots a backup (a health check):
const (
	// HealthBoots: after BootDelay the guest agent reports (a
	// VM_guest_metrics record with PV_drivers_detected) and a health check
	// script, if one is planned, writes "success".
	HealthBoots = "boots"
	// HealthNeverBoots: after BootDelay the domain halts (a bootloader or
	// kernel that fails) and the guest never reports.
	HealthNeverBoots = "never-boots"
	// HealthGuestFailure: the guest boots, but its health check script
	// writes "failure" (and a reason in vm-data/xo-backup-health-check-error).
	HealthGuestFailure = "guest-failure"
	// HealthSlowBoot: the guest reports only after SlowBootDelay.
	HealthSlowBoot = "slow-boot"
)

// XenStore keys of Xen Orchestra's health check script, as XAPI shows them
// in VM.xenstore_data.
const (
	xsHealthKey   = "vm-data/xo-backup-health-check"
	xsHealthError = "vm-data/xo-backup-health-check-error"
)

var healthModes = []string{HealthBoots, HealthNeverBoots, HealthGuestFailure, HealthSlowBoot}

// guests holds the per-VM and per-name behaviours; guarded by Server.mu.
type guests struct {
	byUUID map[string]string // VM uuid -> behaviour
	byName map[string]string // name_label prefix -> behaviour
	boots  map[string]uint64 // VM ref -> its current boot, so a stale timer does nothing
}

// SetGuestHealth sets the behaviour of the guests started from now on:
// of the VM uuid, of every VM whose name_label starts with namePrefix (a
// test VM is a new import: its name is all a test knows in advance), or,
// with both empty, of every VM without a more specific one.
func (s *Server) SetGuestHealth(vmUUID, namePrefix, mode string) error {
	if !slices.Contains(healthModes, mode) {
		return fmt.Errorf("health %q: want one of %s", mode, strings.Join(healthModes, ", "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case vmUUID != "":
		s.guests.byUUID[strings.ToLower(vmUUID)] = mode
	case namePrefix != "":
		s.guests.byName[namePrefix] = mode
	default:
		s.opts.Health = mode
	}
	return nil
}

// healthOf is the behaviour of vm's guest; the caller holds st.mu.
func (s *Server) healthOf(vm *object) (string, uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.guests.boots[vm.ref]++
	boot := s.guests.boots[vm.ref]
	if m, ok := s.guests.byUUID[lower(vm.str("uuid"))]; ok {
		return m, boot
	}
	best, mode := -1, s.opts.Health
	for prefix, m := range s.guests.byName {
		if strings.HasPrefix(vm.str("name_label"), prefix) && len(prefix) > best {
			best, mode = len(prefix), m
		}
	}
	return mode, boot
}

// bootGuest plays vm's guest after a start; the caller holds st.mu.
func (s *Server) bootGuest(vm *object) {
	s.dropGuestMetrics(vm)
	mode, boot := s.healthOf(vm)
	delay := s.opts.BootDelay
	if mode == HealthSlowBoot {
		delay = s.opts.SlowBootDelay
	}
	go func() {
		select {
		case <-s.done:
			return
		case <-time.After(delay):
		}
		s.st.mu.Lock()
		defer s.st.mu.Unlock()
		s.mu.Lock()
		current := s.guests.boots[vm.ref] == boot
		s.mu.Unlock()
		if _, err := s.st.get("VM", vm.ref); err != nil || !current || vm.str("power_state") != "Running" {
			return
		}
		s.guestReports(vm, mode)
	}()
}

// guestReports is what vm's guest does once booted (mode); the caller holds st.mu.
func (s *Server) guestReports(vm *object, mode string) {
	if mode == HealthNeverBoots {
		s.log.Debug("xapisim: guest never boots; the domain halts", "vm", vm.str("uuid"))
		s.setPowerState(vm, "Halted")
		return
	}
	gm := s.st.add("VM_guest_metrics", guestMetricsRecord(s.now()))
	s.st.set(vm, "guest_metrics", gm.ref)
	if _, planned := vm.smap("xenstore_data")[xsHealthKey]; !planned {
		return
	}
	if mode == HealthGuestFailure {
		s.st.putMap(vm, "xenstore_data", xsHealthError, "simulated guest: the health check script failed")
		s.st.putMap(vm, "xenstore_data", xsHealthKey, "failure")
		return
	}
	s.st.putMap(vm, "xenstore_data", xsHealthKey, "success")
}

// dropGuestMetrics destroys vm's VM_guest_metrics, as XAPI does when a
// domain stops; the caller holds st.mu.
func (s *Server) dropGuestMetrics(vm *object) {
	if gm, err := s.st.get("VM_guest_metrics", vm.str("guest_metrics")); err == nil {
		s.st.del(gm)
	}
	if vm.str("guest_metrics") != nullRef {
		s.st.set(vm, "guest_metrics", nullRef)
	}
}

// guestMetricsRecord is what a booted Linux guest with its agent reports.
func guestMetricsRecord(now time.Time) map[string]any {
	return map[string]any{
		"uuid": uuid.NewString(),
		"os_version": smap{"name": "Debian GNU/Linux 12 (bookworm)", "distro": "debian", "major": "12",
			"uname": "6.1.0-27-amd64"},
		"netbios_name": smap{}, "PV_drivers_version": smap{"major": "8", "minor": "3", "micro": "0", "build": "1"},
		"PV_drivers_up_to_date": true, "memory": smap{}, "disks": smap{}, "networks": smap{},
		"other":        smap{"feature-shutdown": "1", "feature-suspend": "1", "has-vendor-device": "0"},
		"last_updated": now.UTC(), "other_config": smap{}, "live": true,
		"can_use_hotplug_vbd": "yes", "can_use_hotplug_vif": "yes", "PV_drivers_detected": true,
	}
}

// serveSimVM answers the simulator's per-VM endpoints (no session; not XAPI):
//
//	POST /sim/vm/<uuid>/fault?health=<mode>        the VM's guest behaviour from its next start
//	POST /sim/vm/<uuid>/xenstore?key=vm-data/…&value=…  the guest writes a vm-data key
func (s *Server) serveSimVM(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/sim/vm/")
	id, action, _ := strings.Cut(rest, "/")
	q := r.URL.Query()
	var err error
	code := http.StatusBadRequest
	switch action {
	case "fault":
		err = s.SetGuestHealth(id, "", q.Get("health"))
	case "xenstore":
		code, err = s.guestWriteXenStore(id, q.Get("key"), q.Get("value"))
	default:
		err = fmt.Errorf("path %q: want /sim/vm/<uuid>/fault or /sim/vm/<uuid>/xenstore", r.URL.Path)
	}
	if err != nil {
		http.Error(w, "xapisim: "+err.Error(), code)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// serveSimFault answers POST /sim/fault?health=<mode>[&name_label=<prefix>]:
// the behaviour of every guest started from now on, or of those whose VM's
// name_label starts with prefix.
func (s *Server) serveSimFault(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if err := s.SetGuestHealth("", q.Get("name_label"), q.Get("health")); err != nil {
		http.Error(w, "xapisim: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// guestWriteXenStore writes key=value under the VM's vm-data as its guest
// would, visible in VM.xenstore_data.
func (s *Server) guestWriteXenStore(vmUUID, key, value string) (int, error) {
	if !strings.HasPrefix(key, "vm-data/") || len(key) > 256 || len(value) > 4096 {
		return http.StatusBadRequest, fmt.Errorf("key %q: a guest writes only under vm-data/ (key up to 256, value up to 4096 bytes)", key)
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	vm, err := s.st.byUUID("VM", vmUUID)
	if err != nil {
		return http.StatusNotFound, fmt.Errorf("VM %q: no such VM", vmUUID)
	}
	if vm.str("power_state") != "Running" {
		return http.StatusConflict, fmt.Errorf("VM %s is %s: only a running guest writes to XenStore", vmUUID, vm.str("power_state"))
	}
	s.st.putMap(vm, "xenstore_data", key, value)
	return http.StatusNoContent, nil
}
