package xapi

func decodePool(v any) (Pool, error) {
	f := newFields("pool", v)
	r := Pool{
		UUID: f.str("uuid"), NameLabel: f.str("name_label"), NameDescription: f.str("name_description"),
		Master: HostRef(f.str("master")), DefaultSR: SRRef(f.str("default_SR")),
		OtherConfig: f.strMap("other_config"), Tags: f.strings("tags"),
	}
	return r, f.err
}

func decodeHost(v any) (Host, error) {
	f := newFields("host", v)
	r := Host{
		UUID: f.str("uuid"), NameLabel: f.str("name_label"), NameDescription: f.str("name_description"),
		Hostname: f.str("hostname"), Address: f.str("address"), Enabled: f.boolean("enabled"),
		APIVersionMajor: f.integer("API_version_major"), APIVersionMinor: f.integer("API_version_minor"),
		SoftwareVersion: f.strMap("software_version"), ControlDomain: VMRef(f.str("control_domain")),
		ResidentVMs: refs[VMRef](f, "resident_VMs"), PIFs: refs[Ref](f, "PIFs"),
		OtherConfig: f.strMap("other_config"), Tags: f.strings("tags"),
	}
	return r, f.err
}

func decodeSR(v any) (SR, error) {
	f := newFields("SR", v)
	r := SR{
		UUID: f.str("uuid"), NameLabel: f.str("name_label"), NameDescription: f.str("name_description"),
		Type: f.str("type"), ContentType: f.str("content_type"),
		PhysicalSize: f.integer("physical_size"), PhysicalUtilisation: f.integer("physical_utilisation"),
		VirtualAllocation: f.integer("virtual_allocation"), Shared: f.boolean("shared"),
		VDIs: refs[VDIRef](f, "VDIs"), PBDs: refs[Ref](f, "PBDs"),
		OtherConfig: f.strMap("other_config"), SMConfig: f.strMap("sm_config"),
		AllowedOperations: f.strings("allowed_operations"), Tags: f.strings("tags"),
	}
	return r, f.err
}

func decodeNetwork(v any) (Network, error) {
	f := newFields("network", v)
	r := Network{
		UUID: f.str("uuid"), NameLabel: f.str("name_label"), NameDescription: f.str("name_description"),
		Bridge: f.str("bridge"), MTU: f.integer("MTU"), VIFs: refs[Ref](f, "VIFs"), PIFs: refs[Ref](f, "PIFs"),
		OtherConfig: f.strMap("other_config"), Tags: f.strings("tags"), Purpose: f.strings("purpose"),
	}
	return r, f.err
}

func decodeVM(v any) (VM, error) {
	f := newFields("VM", v)
	r := VM{
		UUID: f.str("uuid"), NameLabel: f.str("name_label"), NameDescription: f.str("name_description"),
		PowerState:  PowerState(f.str("power_state")),
		IsATemplate: f.boolean("is_a_template"), IsDefaultTemplate: f.boolean("is_default_template"),
		IsControlDomain: f.boolean("is_control_domain"), IsASnapshot: f.boolean("is_a_snapshot"),
		SnapshotOf: VMRef(f.str("snapshot_of")), SnapshotTime: f.time("snapshot_time"),
		Snapshots: refs[VMRef](f, "snapshots"), SnapshotInfo: f.strMap("snapshot_info"),
		SnapshotMetadata: f.str("snapshot_metadata"), Parent: VMRef(f.str("parent")),
		Children: refs[VMRef](f, "children"), OtherConfig: f.strMap("other_config"), Tags: f.strings("tags"),
		BlockedOperations: f.strMap("blocked_operations"), AllowedOperations: f.strings("allowed_operations"),
		CurrentOperations: f.strMap("current_operations"),
		VBDs:              refs[VBDRef](f, "VBDs"), VIFs: refs[Ref](f, "VIFs"), ResidentOn: HostRef(f.str("resident_on")),
		MemoryStaticMax: f.integer("memory_static_max"), MemoryDynamicMax: f.integer("memory_dynamic_max"),
		MemoryDynamicMin: f.integer("memory_dynamic_min"), MemoryStaticMin: f.integer("memory_static_min"),
		MemoryTarget: f.integer("memory_target"), VCPUsMax: f.integer("VCPUs_max"),
		VCPUsAtStartup: f.integer("VCPUs_at_startup"), Domid: f.integer("domid"),
		DomainType: f.str("domain_type"), Metrics: Ref(f.str("metrics")), GuestMetrics: Ref(f.str("guest_metrics")),
		HVMBootParams: f.strMap("HVM_boot_params"), Platform: f.strMap("platform"),
		HARestartPriority: f.str("ha_restart_priority"),
	}
	return r, f.err
}

func decodeVBD(v any) (VBD, error) {
	f := newFields("VBD", v)
	r := VBD{
		UUID: f.str("uuid"), VM: VMRef(f.str("VM")), VDI: VDIRef(f.str("VDI")),
		Type: f.str("type"), Mode: f.str("mode"), Userdevice: f.str("userdevice"), Device: f.str("device"),
		Bootable: f.boolean("bootable"), Empty: f.boolean("empty"),
		CurrentlyAttached: f.boolean("currently_attached"), OtherConfig: f.strMap("other_config"),
	}
	return r, f.err
}

func decodeVDI(v any) (VDI, error) {
	f := newFields("VDI", v)
	r := VDI{
		UUID: f.str("uuid"), NameLabel: f.str("name_label"), NameDescription: f.str("name_description"),
		SR: SRRef(f.str("SR")), VBDs: refs[VBDRef](f, "VBDs"),
		VirtualSize: f.integer("virtual_size"), PhysicalUtilisation: f.integer("physical_utilisation"),
		Type: f.str("type"), ReadOnly: f.boolean("read_only"), Sharable: f.boolean("sharable"),
		Managed: f.boolean("managed"), Missing: f.boolean("missing"), IsASnapshot: f.boolean("is_a_snapshot"),
		SnapshotOf: VDIRef(f.str("snapshot_of")), SnapshotTime: f.time("snapshot_time"),
		Snapshots: refs[VDIRef](f, "snapshots"), SMConfig: f.strMap("sm_config"),
		OtherConfig: f.strMap("other_config"), Tags: f.strings("tags"), CBTEnabled: f.boolean("cbt_enabled"),
		AllowedOperations: f.strings("allowed_operations"), CurrentOperations: f.strMap("current_operations"),
	}
	return r, f.err
}

func decodeTask(v any) (Task, error) {
	f := newFields("task", v)
	r := Task{
		UUID: f.str("uuid"), NameLabel: f.str("name_label"), NameDescription: f.str("name_description"),
		AllowedOperations: f.strings("allowed_operations"), CurrentOperations: f.strMap("current_operations"),
		Created: f.time("created"), Finished: f.time("finished"), Status: TaskStatus(f.str("status")),
		ResidentOn: HostRef(f.str("resident_on")), Progress: f.float("progress"), Type: f.str("type"),
		Result: f.str("result"), ErrorInfo: f.strings("error_info"), OtherConfig: f.strMap("other_config"),
		SubtaskOf: TaskRef(f.str("subtask_of")), Subtasks: refs[TaskRef](f, "subtasks"), Backtrace: f.str("backtrace"),
	}
	return r, f.err
}
