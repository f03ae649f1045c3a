package xapisim

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"xbr/shared/xapi/xmlrpc"
	"xbr/shared/xva"
)

// imported tracks the objects an import created, to finish or undo them.
type imported struct {
	vms, vbds []string
	disks     map[string]string // export id -> new VDI ref
	complete  bool
}

// createImported creates the VM, VDI and VBD records of an XVA header
// (Halted, other_config import_task while importing).
func (s *Server) createImported(task, srRef string, hdr *xva.Header, disks []xva.DiskRef) (*imported, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	sr, err := s.st.get("SR", srRef)
	if err != nil {
		return nil, err
	}
	if sr.str("content_type") == "iso" {
		return nil, fail("SR_OPERATION_NOT_SUPPORTED", sr.ref)
	}
	var need int64
	for _, d := range disks {
		need += d.Size
	}
	if err := s.checkSpace(sr, need); err != nil {
		return nil, err
	}
	imp := &imported{disks: map[string]string{}}
	vmByID := map[string]*object{}
	for _, o := range hdr.Objects {
		if o.Class == "VM" {
			vm := s.st.add("VM", s.importedVM(o.Snapshot, task))
			vmByID[o.ID] = vm
			imp.vms = append(imp.vms, vm.ref)
		}
	}
	for _, d := range disks {
		name, _ := d.VDI["name_label"].(string)
		rec := vdiRecord(name, sr.ref, d.Size, 0)
		overlay(rec, d.VDI)
		rec["is_a_snapshot"], rec["snapshot_of"], rec["snapshot_time"] = false, nullRef, epoch
		vdi := s.st.add("VDI", rec)
		imp.disks[d.ID] = vdi.ref
		s.attachSR(sr, vdi)
	}
	for _, o := range hdr.Objects {
		if o.Class == "VBD" {
			s.importVBD(imp, vmByID, o.Snapshot)
		}
	}
	if t, err := s.st.get("task", task); err == nil {
		s.st.putMap(t, "other_config", "object_creation", "complete")
	}
	return imp, nil
}

func (s *Server) importedVM(snap map[string]any, task string) map[string]any {
	name, _ := snap["name_label"].(string)
	rec := vmRecord(name, 0, 0)
	overlay(rec, snap)
	oc, _ := xmlrpc.AsStringMap(snap["other_config"])
	if oc == nil {
		oc = smap{}
	}
	oc["import_task"] = task
	oc["mac_seed"] = uuid.NewString()
	rec["other_config"] = oc
	rec["power_state"] = "Halted"
	rec["allowed_operations"] = vmAllowedOps("Halted")
	rec["current_operations"] = smap{task: "import"}
	rec["version"] = int64(0)
	return rec
}

func (s *Server) importVBD(imp *imported, vmByID map[string]*object, snap map[string]any) {
	vmID, _ := snap["VM"].(string)
	vm, ok := vmByID[vmID]
	if !ok {
		return
	}
	vdiID, _ := snap["VDI"].(string)
	vdi, ok := imp.disks[vdiID]
	if !ok {
		vdi = nullRef
	}
	typ, _ := snap["type"].(string)
	rec := vbdRecord(vm.ref, vdi, "", typ, false)
	overlay(rec, snap)
	rec["empty"] = vdi == nullRef
	rec["currently_attached"] = false
	vbd := s.st.add("VBD", rec)
	imp.vbds = append(imp.vbds, vbd.ref)
	s.st.addToSet(vm, "VBDs", vbd.ref)
	if v, err := s.st.get("VDI", vdi); err == nil {
		s.st.addToSet(v, "VBDs", vbd.ref)
	}
}

// destroy removes everything the import created; st.mu is held.
func (imp *imported) destroy(s *Server) {
	for _, ref := range imp.disks {
		if vdi, err := s.st.get("VDI", ref); err == nil {
			s.destroyVDI(vdi)
		}
	}
	for _, ref := range imp.vbds {
		if vbd, err := s.st.get("VBD", ref); err == nil {
			s.destroyVBD(vbd)
		}
	}
	for _, ref := range imp.vms {
		if vm, err := s.st.get("VM", ref); err == nil {
			s.st.del(vm)
		}
	}
}

// finishImport clears the import markers and accounts the stored disks.
func (s *Server) finishImport(imp *imported, task string) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	for _, ref := range imp.disks {
		vdi, err := s.st.get("VDI", ref)
		if err != nil {
			continue
		}
		if k, ok := s.disks.get(ref); ok {
			s.st.set(vdi, "physical_utilisation", k.allocatedBytes())
		}
		if sr, err := s.st.get("SR", vdi.str("SR")); err == nil {
			s.accountSR(sr)
		}
	}
	for _, ref := range imp.vms {
		if vm, err := s.st.get("VM", ref); err == nil {
			s.st.deleteMap(vm, "other_config", "import_task")
			s.st.deleteMap(vm, "current_operations", task)
		}
	}
}

// vmRefs are the VMs created, snapshots left out unless only snapshots came.
func (imp *imported) vmRefs() []string { return slices.Clone(imp.vms) }

func isRef(s string) bool { return strings.HasPrefix(s, "OpaqueRef:") || strings.HasPrefix(s, "Ref:") }

// skipOverlay are fields an import never copies.
var skipOverlay = map[string]bool{"uuid": true, "current_operations": true, "allowed_operations": true,
	"blobs": true, "location": true}

// overlay copies the fields of src that dst has, converted to dst's types;
// references are skipped (the caller links the new objects).
func overlay(dst, src map[string]any) {
	for k, def := range dst {
		v, ok := src[k]
		if !ok || skipOverlay[k] {
			continue
		}
		switch d := def.(type) {
		case string:
			if sv, ok := v.(string); ok && !isRef(d) && !isRef(sv) {
				dst[k] = sv
			}
		case int64:
			if n, ok := xmlrpc.AsInt(v); ok {
				dst[k] = n
			}
		case bool:
			if b, ok := xmlrpc.AsBool(v); ok {
				dst[k] = b
			}
		case float64:
			if f, ok := xmlrpc.AsFloat(v); ok {
				dst[k] = f
			}
		case time.Time:
			if t, ok := xmlrpc.AsTime(v); ok {
				dst[k] = t
			}
		case []string:
			if ss, ok := xmlrpc.AsStrings(v); ok && !slices.ContainsFunc(ss, isRef) {
				dst[k] = ss
			}
		case smap:
			if m, ok := xmlrpc.AsStringMap(v); ok {
				dst[k] = m
			}
		}
	}
}
