package xapisim_test

import (
	"slices"
	"testing"
	"time"

	"xbr/shared/xapi/xapisim"
)

func TestDispatcherErrors(t *testing.T) {
	s, url := newSim(t, xapisim.Options{})
	sess := login(t, s, url)
	vm := vmByName(t, s, "vm-01")
	tests := []struct {
		name   string
		method string
		params []any
		want   []string
	}{
		{"count mismatch", "VM.get_record", []any{sess}, []string{"MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.get_record", "1", "0"}},
		{"too many", "VM.snapshot", []any{sess, vm.Ref, "a", []any{}, "x"}, []string{"MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.snapshot", "2", "4"}},
		{"unknown", "VM.frobnicate", []any{sess}, []string{"MESSAGE_METHOD_UNKNOWN", "VM.frobnicate"}},
		{"bad handle", "VM.get_record", []any{sess, "OpaqueRef:x"}, []string{"HANDLE_INVALID", "VM", "OpaqueRef:x"}},
		{"bad uuid", "VDI.get_by_uuid", []any{sess, "nope"}, []string{"UUID_INVALID", "VDI", "nope"}},
		{"bad session", "VM.get_all", []any{"OpaqueRef:old"}, []string{"SESSION_INVALID", "OpaqueRef:old"}},
		{"removed", "VM.snapshot_with_quiesce", []any{sess, vm.Ref, "q"}, []string{"MESSAGE_REMOVED"}},
		{"no async", "Async.VM.get_record", []any{sess, vm.Ref}, []string{"Fault", "No async mode for this operation (rpc: Async.VM.get_record)"}},
		{"duplicate key", "pool.add_to_other_config", []any{sess, s.PoolRef(), "memory-ratio-hvm", "1"},
			[]string{"MAP_DUPLICATE_KEY", "pool", "other_config", s.PoolRef(), "memory-ratio-hvm"}},
		{"start running", "VM.start", []any{sess, vm.Ref, false, false}, []string{"VM_BAD_POWER_STATE", vm.Ref, "halted", "running"}},
		{"destroy running", "VM.destroy", []any{sess, vm.Ref}, []string{"VM_BAD_POWER_STATE", vm.Ref, "halted, suspended", "running"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, desc := xmlCall(t, url, tc.method, tc.params...)
			if !slices.Equal(desc, tc.want) {
				t.Fatalf("got %q, want %q", desc, tc.want)
			}
		})
	}
}

func TestLoginVariantsAndLogout(t *testing.T) {
	s, url := newSim(t, xapisim.Options{})
	user, pass := s.Credentials()
	for _, params := range [][]any{{user, pass}, {user, pass, "1.1"}, {user, pass, "1.1", "xbr-test"}} {
		must(t, url, "session.login_with_password", params...)
	}
	mustFail(t, url, "MESSAGE_PARAMETER_COUNT_MISMATCH", "session.login_with_password", user)
	sess := login(t, s, url)
	must(t, url, "session.logout", sess)
	mustFail(t, url, "SESSION_INVALID", "pool.get_all", sess)
}

func TestOperationChecks(t *testing.T) {
	s, url := newSim(t, xapisim.Options{})
	sess := login(t, s, url)
	halted := vmByName(t, s, "vm-02")
	must(t, url, "VM.add_to_blocked_operations", sess, halted.Ref, "start", "maintenance")
	mustFail(t, url, "OPERATION_BLOCKED", "VM.start", sess, halted.Ref, false, false)
	must(t, url, "VM.remove_from_blocked_operations", sess, halted.Ref, "start")
	must(t, url, "VM.start", sess, halted.Ref, false, false)
	if vm, _ := s.VM(halted.Ref); vm.PowerState != "Running" {
		t.Fatalf("after start: %s", vm.PowerState)
	}
	mustFail(t, url, "VDI_IN_USE", "VDI.destroy", sess, halted.VDIs[0])
	must(t, url, "VM.clean_shutdown", sess, halted.Ref)
	mustFail(t, url, "VM_BAD_POWER_STATE", "VM.hard_shutdown", sess, halted.Ref)
	snap := must(t, url, "VM.snapshot", sess, halted.Ref, "s").(string)
	mustFail(t, url, "VM_IS_SNAPSHOT", "VM.start", sess, snap, false, false)
	must(t, url, "VM.set_is_a_template", sess, halted.Ref, true)
	mustFail(t, url, "VM_IS_TEMPLATE", "VM.start", sess, halted.Ref, false, false)
}

func TestSnapshotSemantics(t *testing.T) {
	s, url := newSim(t, xapisim.Options{DisksPerVM: 2})
	sess := login(t, s, url)
	vm := vmByName(t, s, "vm-01") // Running
	must(t, url, "VM.add_to_other_config", sess, vm.Ref, "xo:backup:job", "j1")
	must(t, url, "VM.add_tags", sess, vm.Ref, "prod")
	snap := must(t, url, "VM.snapshot", sess, vm.Ref, "nightly").(string)
	rec := must(t, url, "VM.get_record", sess, snap).(map[string]any)
	want := map[string]any{"is_a_snapshot": true, "is_a_template": true, "is_default_template": false,
		"snapshot_of": vm.Ref, "power_state": "Halted", "name_label": "nightly", "resident_on": "OpaqueRef:NULL"}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("snapshot %s = %v, want %v", k, rec[k], v)
		}
	}
	info, _ := rec["snapshot_info"].(map[string]any)
	oc, _ := rec["other_config"].(map[string]any)
	if info["power-state-at-snapshot"] != "Running" || info["disk-snapshot-type"] != "crash_consistent" ||
		oc["xo:backup:job"] != "j1" || sprint(rec["tags"]) != "[prod]" || rec["snapshot_metadata"] == "" {
		t.Errorf("snapshot_info %v, other_config %v, tags %v", info, oc, rec["tags"])
	}
	if got := must(t, url, "VM.get_snapshots", sess, vm.Ref); sprint(got) != "["+snap+"]" {
		t.Errorf("VM.get_snapshots = %v", got)
	}
	if got := must(t, url, "VM.get_parent", sess, vm.Ref); got != snap {
		t.Errorf("source parent = %v, want the snapshot", got)
	}
	snapInfo, _ := s.VM(snap)
	for i, vdi := range snapInfo.VDIs {
		r, _ := s.Record("VDI", vdi)
		if r["is_a_snapshot"] != true || r["snapshot_of"] != vm.VDIs[i] {
			t.Errorf("snapshot VDI %d: is_a_snapshot %v snapshot_of %v", i, r["is_a_snapshot"], r["snapshot_of"])
		}
		vbds, _ := r["VBDs"].([]string)
		vbd, _ := s.Record("VBD", vbds[0])
		if vbd["other_config"].(map[string]string)["owner"] != "" || vbd["VM"] != snap {
			t.Errorf("snapshot VBD: %v", vbd)
		}
		if string(vdiBytes(t, s, vdi)) != string(vdiBytes(t, s, vm.VDIs[i])) {
			t.Errorf("snapshot VDI %d content differs from its parent", i)
		}
	}
	// ignore_vdis leaves a disk out.
	partial := must(t, url, "VM.snapshot", sess, vm.Ref, "partial", []any{vm.VDIs[1]}).(string)
	if p, _ := s.VM(partial); len(p.VDIs) != 1 {
		t.Errorf("ignore_vdis: snapshot has %d disks", len(p.VDIs))
	}
	// VM.destroy leaves the VDIs; VDI.destroy removes the VBDs too.
	must(t, url, "VM.destroy", sess, snap)
	for _, vdi := range snapInfo.VDIs {
		r := must(t, url, "VDI.get_record", sess, vdi).(map[string]any)
		if sprint(r["VBDs"]) != "[]" {
			t.Errorf("VDI %s still has VBDs %v after VM.destroy", vdi, r["VBDs"])
		}
		must(t, url, "VDI.destroy", sess, vdi)
		mustFail(t, url, "HANDLE_INVALID", "VDI.get_record", sess, vdi)
	}
	if got := must(t, url, "VM.get_snapshots", sess, vm.Ref); sprint(got) != "["+partial+"]" {
		t.Errorf("after destroy, VM.get_snapshots = %v", got)
	}
}

func TestAsyncTaskResultAndCancel(t *testing.T) {
	s, url := newSim(t, xapisim.Options{})
	sess := login(t, s, url)
	vm := vmByName(t, s, "vm-02")
	task := must(t, url, "Async.VM.snapshot", sess, vm.Ref, "async").(string)
	rec := taskDone(t, s, task)
	snaps := s.Snapshots()
	if rec["status"] != "success" || len(snaps) != 1 || rec["result"] != "<value>"+snaps[0].Ref+"</value>" ||
		rec["progress"] != 1.0 || rec["finished"].(time.Time).Unix() <= 0 {
		t.Fatalf("task %v, snapshots %v", rec, snaps)
	}
	must(t, url, "task.destroy", sess, task)
	mustFail(t, url, "HANDLE_INVALID", "task.get_record", sess, task)

	failed := must(t, url, "Async.VM.start", sess, snaps[0].Ref, false, false).(string)
	if r := taskDone(t, s, failed); r["status"] != "failure" || sprint(r["error_info"]) != "[VM_IS_SNAPSHOT "+snaps[0].Ref+" start]" {
		t.Fatalf("failed task %v", r)
	}
	own := must(t, url, "task.create", sess, "mine", "").(string)
	must(t, url, "task.cancel", sess, own)
	if r, _ := s.Record("task", own); r["status"] != "cancelled" || sprint(r["error_info"]) != "[TASK_CANCELLED "+own+"]" {
		t.Fatalf("cancelled task %v", r)
	}
}

func TestEventFromBlocksAndOrders(t *testing.T) {
	s, url := newSim(t, xapisim.Options{})
	sess := login(t, s, url)
	all := must(t, url, "event.from", sess, []any{"VM", "pool"}, "", 1.0).(map[string]any)
	evs, _ := all["events"].([]any)
	if len(evs) != len(s.Refs("VM"))+1 {
		t.Fatalf(`token "" gave %d events, want every VM and the pool`, len(evs))
	}
	for _, e := range evs {
		if e.(map[string]any)["operation"] != "add" {
			t.Fatalf("token \"\": %v", e)
		}
	}
	tok := all["token"].(string)
	type result struct {
		v    map[string]any
		desc []string
	}
	done := make(chan result, 1)
	go func() {
		v, desc := xmlCall(t, url, "event.from", sess, []any{"vm", "pool"}, tok, 30.0)
		m, _ := v.(map[string]any)
		done <- result{m, desc}
	}()
	select {
	case r := <-done:
		t.Fatalf("event.from returned before any change: %v", r)
	case <-time.After(100 * time.Millisecond):
	}
	// barrier(): a pool other_config change is a pool mod event.
	must(t, url, "pool.add_to_other_config", sess, s.PoolRef(), "xo:barrier:1", "1")
	r := <-done
	ev := r.v["events"].([]any)[0].(map[string]any)
	oc := ev["snapshot"].(map[string]any)["other_config"].(map[string]any)
	if ev["class"] != "pool" || ev["operation"] != "mod" || oc["xo:barrier:1"] != "1" {
		t.Fatalf("barrier event %v", ev)
	}
	// add < mod < del in one batch; del has no snapshot.
	tok = r.v["token"].(string)
	vm := vmByName(t, s, "vm-02")
	snap := must(t, url, "VM.snapshot", sess, vm.Ref, "e").(string)
	must(t, url, "VM.destroy", sess, snap)
	batch := must(t, url, "event.from", sess, []any{"*"}, tok, 1.0).(map[string]any)
	order := map[string]int{"add": 0, "mod": 1, "del": 2}
	last, sawDel := 0, false
	for _, e := range batch["events"].([]any) {
		m := e.(map[string]any)
		op := order[m["operation"].(string)]
		if op < last {
			t.Fatalf("events out of add<mod<del order: %v", batch["events"])
		}
		last = op
		if _, has := m["snapshot"]; (op == 2) == has {
			t.Fatalf("event %v: snapshot presence wrong", m)
		}
		sawDel = sawDel || (op == 2 && m["ref"] == snap)
	}
	counts := batch["valid_ref_counts"].(map[string]any)
	if !sawDel || counts["vm"] != int64(len(s.Refs("VM"))) || counts["task"] == nil {
		t.Fatalf("del seen %v, valid_ref_counts %v", sawDel, counts)
	}
	empty := must(t, url, "event.from", sess, []any{"VM"}, batch["token"], 0.05).(map[string]any)
	if len(empty["events"].([]any)) != 0 {
		t.Fatalf("timeout returned events %v", empty["events"])
	}
	mustFail(t, url, "EVENT_FROM_TOKEN_PARSE_FAILURE", "event.from", sess, []any{"VM"}, "garbage", 0.1)
}
