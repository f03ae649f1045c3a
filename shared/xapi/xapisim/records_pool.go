package xapisim

import (
	"github.com/google/uuid"
)

// API version and product the simulator claims: XCP-ng 8.3.
const (
	apiMajor       = 2
	apiMinor       = 21
	productVersion = "8.3.0"
	productBrand   = "XCP-ng"
	xapiVersion    = "24.19"
)

// poolRecord carries every published pool field.
func poolRecord(name, master, sr string) map[string]any {
	return map[string]any{
		"uuid": uuid.NewString(), "name_label": name, "name_description": "Simulated by xapisim",
		"master": master, "default_SR": sr, "suspend_image_SR": sr, "crash_dump_SR": sr,
		"other_config": smap{"memory-ratio-hvm": "0.25", "memory-ratio-pv": "0.25"},
		"ha_enabled":   false, "ha_configuration": smap{}, "ha_statefiles": set(),
		"ha_host_failures_to_tolerate": int64(0), "ha_plan_exists_for": int64(0), "ha_allow_overcommit": false,
		"ha_overcommitted": false, "blobs": smap{}, "tags": set(), "gui_config": smap{},
		"health_check_config": smap{}, "wlb_url": "", "wlb_username": "", "wlb_enabled": false,
		"wlb_verify_cert": false, "redo_log_enabled": false, "redo_log_vdi": nullRef, "vswitch_controller": "",
		"restrictions":  smap{"restrict_vswitch_controller": "false", "restrict_lab": "false"},
		"metadata_VDIs": set(), "ha_cluster_stack": "xhad", "allowed_operations": set(),
		"current_operations": smap{}, "guest_agent_config": smap{},
		"cpu_info":                smap{"cpu_count": "4", "socket_count": "1", "vendor": "GenuineIntel"},
		"policy_no_vendor_device": false, "live_patching_disabled": false, "igmp_snooping_enabled": false,
		"uefi_certificates": "", "custom_uefi_certificates": "", "is_psr_pending": false,
		"tls_verification_enabled": true, "repositories": set(), "client_certificate_auth_enabled": false,
		"client_certificate_auth_name": "", "repository_proxy_url": "", "repository_proxy_username": "",
		"repository_proxy_password": nullRef, "migration_compression": false, "coordinator_bias": true,
		"local_auth_max_threads": int64(8), "ext_auth_max_threads": int64(1), "telemetry_uuid": nullRef,
		"telemetry_frequency": "weekly", "telemetry_next_collection": epoch, "last_update_sync": epoch,
		"update_sync_frequency": "weekly", "update_sync_day": int64(0), "update_sync_enabled": false,
	}
}

// hostRecord carries every published host field.
func hostRecord(name, sr string) map[string]any {
	return map[string]any{
		"uuid": uuid.NewString(), "name_label": name, "name_description": "Default install",
		"memory_overhead": int64(1 << 30), "allowed_operations": []string{"provision", "evacuate", "reboot", "shutdown"},
		"current_operations": smap{}, "API_version_major": int64(apiMajor), "API_version_minor": int64(apiMinor),
		"API_version_vendor": "XenSource", "API_version_vendor_implementation": smap{}, "enabled": true,
		"software_version": smap{"product_version": productVersion, "product_version_text": "8.3",
			"product_brand": productBrand, "platform_name": "XCP", "platform_version": "3.4.0",
			"xapi": xapiVersion, "xapi_build": xapiVersion + ".1", "xen": "4.17.5", "linux": "4.19.0+1",
			"hostname": name, "date": "2024-10-01", "build_number": "cloud", "xencenter_min": "2.21",
			"xencenter_max": "2.21", "network_backend": "openvswitch", "db_schema": "5.780"},
		"other_config":      smap{"agent_start_time": "1700000000.", "iscsi_iqn": "iqn.2024-01.com.example:xapisim"},
		"capabilities":      []string{"xen-3.0-x86_64", "hvm-3.0-x86_32", "hvm-3.0-x86_64"},
		"cpu_configuration": smap{}, "sched_policy": "credit", "supported_bootloaders": []string{"pygrub", "eliloader"},
		"resident_VMs": set(), "logging": smap{}, "PIFs": set(), "suspend_image_sr": sr, "crash_dump_sr": sr,
		"crashdumps": set(), "patches": set(), "updates": set(), "PBDs": set(), "host_CPUs": set(),
		"cpu_info": smap{"cpu_count": "4", "socket_count": "1", "vendor": "GenuineIntel", "speed": "2400.000",
			"modelname": "Intel(R) Xeon(R) CPU (simulated)", "family": "6", "model": "85", "stepping": "7"},
		"hostname": name, "address": "127.0.0.1", "metrics": nullRef,
		"license_params": smap{"sku_type": "free", "restrict_vswitch_controller": "false"},
		"ha_statefiles":  set(), "ha_network_peers": set(), "blobs": smap{}, "tags": set(),
		"external_auth_type": "", "external_auth_service_name": "", "external_auth_configuration": smap{},
		"edition": "xcp-ng", "license_server": smap{"address": "localhost", "port": "27000"},
		"bios_strings":  smap{"bios-vendor": "xapisim", "system-manufacturer": "xapisim"},
		"power_on_mode": "", "power_on_config": smap{}, "local_cache_sr": nullRef,
		"chipset_info": smap{"iommu": "false"}, "PCIs": set(), "PGPUs": set(), "PUSBs": set(), "ssl_legacy": false,
		"guest_VCPUs_params": smap{}, "display": "enabled", "virtual_hardware_platform_versions": []any{int64(0), int64(1), int64(2)},
		"control_domain": nullRef, "updates_requiring_reboot": set(), "features": set(),
		"iscsi_iqn": "iqn.2024-01.com.example:xapisim", "multipathing": false, "uefi_certificates": "",
		"certificates": set(), "editions": []string{"xcp-ng"}, "pending_guidances": set(),
		"tls_verification_enabled": true, "last_software_update": epoch, "https_only": false,
		"latest_synced_updates_applied": "unknown", "numa_affinity_policy": "default_policy",
		"pending_guidances_recommended": set(), "pending_guidances_full": set(), "last_update_hash": "",
	}
}
