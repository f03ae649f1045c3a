package xapisim

import (
	"strings"
	"time"

	"github.com/google/uuid"
)

// epoch is XAPI's "not set" datetime (19700101T00:00:00Z).
var epoch = time.Unix(0, 0).UTC()

func lower(s string) string { return strings.ToLower(s) }

type smap = map[string]string

func set() []string { return []string{} }

// vmRecord is a halted HVM guest with every published VM field (Appendix A).
func vmRecord(name string, memory int64, vcpus int64) map[string]any {
	return map[string]any{
		"uuid": uuid.NewString(), "allowed_operations": vmAllowedOps("Halted"), "current_operations": smap{},
		"name_label": name, "name_description": "", "power_state": "Halted", "user_version": int64(1),
		"is_a_template": false, "is_default_template": false, "suspend_VDI": nullRef, "resident_on": nullRef,
		"scheduled_to_be_resident_on": nullRef, "affinity": nullRef, "memory_overhead": memory / 128,
		"memory_target": int64(0), "memory_static_max": memory, "memory_dynamic_max": memory,
		"memory_dynamic_min": memory, "memory_static_min": memory / 2, "VCPUs_params": smap{},
		"VCPUs_max": vcpus, "VCPUs_at_startup": vcpus, "actions_after_softreboot": "soft_reboot",
		"actions_after_shutdown": "destroy", "actions_after_reboot": "restart", "actions_after_crash": "restart",
		"consoles": set(), "VIFs": set(), "VBDs": set(), "VUSBs": set(), "crash_dumps": set(), "VTPMs": set(),
		"PV_bootloader": "", "PV_kernel": "", "PV_ramdisk": "", "PV_args": "", "PV_bootloader_args": "",
		"PV_legacy_args": "", "HVM_boot_policy": "BIOS order", "HVM_boot_params": smap{"order": "cdn"},
		"HVM_shadow_multiplier": 1.0,
		"platform": smap{"timeoffset": "0", "device-model": "qemu-upstream-compat", "viridian": "true",
			"acpi": "1", "apic": "true", "pae": "true", "nx": "true", "vga": "std", "videoram": "8"},
		"PCI_bus": "", "other_config": smap{"mac_seed": uuid.NewString(), "base_template_name": "Debian Bookworm 12"},
		"domid": int64(-1), "domarch": "", "last_boot_CPU_flags": smap{}, "is_control_domain": false,
		"metrics": nullRef, "guest_metrics": nullRef, "last_booted_record": "", "recommendations": vmRecommendations,
		"xenstore_data": smap{}, "ha_always_run": false, "ha_restart_priority": "", "is_a_snapshot": false,
		"snapshot_of": nullRef, "snapshots": set(), "snapshot_time": epoch, "transportable_snapshot_id": "",
		"blobs": smap{}, "tags": set(), "blocked_operations": smap{}, "snapshot_info": smap{},
		"snapshot_metadata": "", "parent": nullRef, "children": set(),
		"bios_strings": smap{"bios-vendor": "Xen", "bios-version": "", "system-manufacturer": "Xen",
			"system-product-name": "HVM domU", "system-version": "", "system-serial-number": "",
			"baseboard-manufacturer": "", "baseboard-product-name": "", "hp-rombios": "", "oem-1": "Xen",
			"oem-2": "MS_VM_CERT/SHA1/bdbeb6e0a816d43fa6d3fe8aaef04c2bad9d3e3d"},
		"protection_policy": nullRef, "snapshot_schedule": nullRef, "is_vmss_snapshot": false, "appliance": nullRef,
		"start_delay": int64(0), "shutdown_delay": int64(0), "order": int64(0), "VGPUs": set(),
		"attached_PCIs": set(), "suspend_SR": nullRef, "version": int64(0), "generation_id": "0:0",
		"hardware_platform_version": int64(0), "has_vendor_device": false, "requires_reboot": false,
		"reference_label": "debian-12", "domain_type": "hvm", "NVRAM": smap{}, "pending_guidances": set(),
		"pending_guidances_recommended": set(), "pending_guidances_full": set(),
	}
}

const vmRecommendations = `<restrictions><restriction field="memory-static-max" max="1649267441664"/>` +
	`<restriction field="vcpus-max" max="32"/><restriction property="number-of-vbds" max="255"/>` +
	`<restriction property="number-of-vifs" max="7"/></restrictions>`

// vmAllowedOps is a realistic allowed_operations for a VM in state.
func vmAllowedOps(state string) []string {
	switch state {
	case "Running":
		return []string{"snapshot", "checkpoint", "clean_shutdown", "hard_shutdown", "clean_reboot",
			"hard_reboot", "suspend", "pause", "changing_dynamic_range", "changing_VCPUs_live"}
	case "Halted":
		return []string{"snapshot", "clone", "copy", "export", "start", "start_on", "destroy",
			"make_into_template", "changing_static_range", "changing_dynamic_range", "changing_VCPUs"}
	}
	return []string{"hard_shutdown"}
}

// vdiRecord is a user disk of size bytes in sr.
func vdiRecord(name, sr string, size, used int64) map[string]any {
	return map[string]any{
		"uuid": uuid.NewString(), "name_label": name, "name_description": "Created by xapisim",
		"allowed_operations": []string{"clone", "copy", "resize", "snapshot", "mirror", "destroy", "forget",
			"update", "generate_config", "enable_cbt", "set_on_boot"},
		"current_operations": smap{}, "SR": sr, "VBDs": set(), "crash_dumps": set(), "virtual_size": size,
		"physical_utilisation": used, "type": "user", "sharable": false, "read_only": false,
		"other_config": smap{}, "storage_lock": false, "location": uuid.NewString(), "managed": true,
		"missing": false, "parent": nullRef, "xenstore_data": smap{}, "sm_config": smap{"vdi_type": "vhd"},
		"is_a_snapshot": false, "snapshot_of": nullRef, "snapshots": set(), "snapshot_time": epoch,
		"tags": set(), "allow_caching": false, "on_boot": "persist", "metadata_of_pool": nullRef,
		"metadata_latest": false, "is_tools_iso": false, "cbt_enabled": false,
	}
}

// vbdRecord attaches vdi (or nothing, for an empty CD drive) to vm.
func vbdRecord(vm, vdi, userdevice, typ string, bootable bool) map[string]any {
	mode, empty := "RW", false
	if typ == "CD" {
		mode, empty = "RO", vdi == nullRef
	}
	return map[string]any{
		"uuid": uuid.NewString(), "allowed_operations": []string{"attach"}, "current_operations": smap{},
		"VM": vm, "VDI": vdi, "device": "", "userdevice": userdevice, "bootable": bootable, "mode": mode,
		"type": typ, "unpluggable": false, "storage_lock": false, "empty": empty, "other_config": smap{},
		"currently_attached": false, "status_code": int64(0), "status_detail": "", "runtime_properties": smap{},
		"qos_algorithm_type": "", "qos_algorithm_params": smap{}, "qos_supported_algorithms": set(),
	}
}

// srRecord is a local ext SR of size bytes.
func srRecord(name string, size int64) map[string]any {
	return map[string]any{
		"uuid": uuid.NewString(), "name_label": name, "name_description": "Local storage (ext, thin provisioned)",
		"allowed_operations": []string{"vdi_create", "vdi_destroy", "vdi_snapshot", "vdi_clone", "vdi_resize",
			"vdi_introduce", "plug", "unplug", "scan", "update", "destroy", "forget"},
		"current_operations": smap{}, "VDIs": set(), "PBDs": set(), "virtual_allocation": int64(0),
		"physical_utilisation": int64(0), "physical_size": size, "type": "ext", "content_type": "user",
		"shared": false, "other_config": smap{"i18n-key": "local-storage", "i18n-original-value-name_label": name},
		"tags": set(), "sm_config": smap{"devserial": "scsi-xapisim"}, "blobs": smap{},
		"local_cache_enabled": false, "introduced_by": nullRef, "clustered": false, "is_tools_sr": false,
	}
}

// networkRecord is the pool-wide network on eth0.
func networkRecord() map[string]any {
	return map[string]any{
		"uuid": uuid.NewString(), "name_label": "Pool-wide network associated with eth0", "name_description": "",
		"allowed_operations": set(), "current_operations": smap{}, "VIFs": set(), "PIFs": set(),
		"MTU": int64(1500), "other_config": smap{}, "bridge": "xenbr0", "managed": true, "blobs": smap{},
		"tags": set(), "default_locking_mode": "unlocked", "assigned_ips": smap{}, "purpose": set(),
	}
}

// taskRecord is a new pending task as task.create makes it.
func taskRecord(label, desc, host string, now time.Time) map[string]any {
	return map[string]any{
		"uuid": uuid.NewString(), "name_label": label, "name_description": desc, "allowed_operations": set(),
		"current_operations": smap{}, "created": now, "finished": epoch, "status": "pending",
		"resident_on": host, "progress": 0.0, "type": "<none/>", "result": "", "error_info": set(),
		"other_config": smap{}, "subtask_of": nullRef, "subtasks": set(), "backtrace": "()",
	}
}
