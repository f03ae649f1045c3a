package xapi_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

func TestSimSnapshot(t *testing.T) {
	for _, tp := range transports {
		t.Run(tp.name, func(t *testing.T) {
			_, url := startSim(t, xapisim.Options{DisksPerVM: 2})
			c := connect(t, url, tp.tr)
			ctx := context.Background()
			vm, src := plainVM(t, c, xapi.Running)
			disks := disksOf(t, c, vm)
			snap, err := c.Snapshot(ctx, vm, "xbr-snap", nil)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := c.VMRecord(ctx, snap)
			if err != nil {
				t.Fatal(err)
			}
			checkSnapshotRecord(t, rec, vm, src)
			snaps, err := c.VMSnapshots(ctx, vm)
			if err != nil || !slices.Contains(snaps, snap) {
				t.Fatalf("VMSnapshots = %v, %v, want it to contain %s", snaps, err, snap)
			}
			snapDisks := disksOf(t, c, snap)
			if len(snapDisks) != len(disks) {
				t.Fatalf("snapshot has %d disks, VM %d", len(snapDisks), len(disks))
			}
			for _, d := range snapDisks {
				vdi, err := c.VDIRecord(ctx, d)
				if err != nil || !vdi.IsASnapshot || !slices.Contains(disks, vdi.SnapshotOf) {
					t.Fatalf("snapshot disk %s: %+v, %v", d, vdi, err)
				}
			}
			partial, err := c.Snapshot(ctx, vm, "partial", disks[1:])
			if err != nil {
				t.Fatal(err)
			}
			if n := len(disksOf(t, c, partial)); n != 1 {
				t.Fatalf("snapshot ignoring one of 2 disks has %d disks", n)
			}
		})
	}
}

func checkSnapshotRecord(t *testing.T, rec xapi.VM, vm xapi.VMRef, src xapi.VM) {
	t.Helper()
	switch {
	case rec.NameLabel != "xbr-snap", !rec.IsASnapshot, !rec.IsATemplate, rec.SnapshotOf != vm:
		t.Fatalf("snapshot identity wrong: %+v", rec)
	case rec.PowerState != xapi.Halted, rec.SnapshotTime.IsZero() || rec.SnapshotTime.Year() < 2000:
		t.Fatalf("snapshot state wrong: power %s, time %v", rec.PowerState, rec.SnapshotTime)
	case rec.SnapshotInfo["power-state-at-snapshot"] != string(src.PowerState):
		t.Fatalf("snapshot_info %v, want power-state-at-snapshot %s", rec.SnapshotInfo, src.PowerState)
	}
}

func TestSimDestroyVMRemovesDisks(t *testing.T) {
	for _, tp := range transports {
		t.Run(tp.name, func(t *testing.T) {
			_, url := startSim(t, xapisim.Options{DisksPerVM: 2})
			c := connect(t, url, tp.tr)
			ctx := context.Background()
			vm, _ := plainVM(t, c, xapi.Halted)
			before, vmsBefore := countVDIs(t, c), countVMs(t, c)
			snap, err := c.Snapshot(ctx, vm, "doomed", nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := countVDIs(t, c); got != before+2 {
				t.Fatalf("%d VDIs after the snapshot, want %d", got, before+2)
			}
			if err := c.DestroyVM(ctx, snap); err != nil {
				t.Fatal(err)
			}
			if got := countVDIs(t, c); got != before {
				t.Fatalf("%d VDIs after DestroyVM, want %d: disks left behind", got, before)
			}
			if got := countVMs(t, c); got != vmsBefore {
				t.Fatalf("%d VMs after DestroyVM, want %d", got, vmsBefore)
			}
			if _, err := c.VMRecord(ctx, snap); !xapi.IsCode(err, xapi.CodeHandleInvalid) {
				t.Fatalf("snapshot after DestroyVM: %v, want HANDLE_INVALID", err)
			}
			if len(disksOf(t, c, vm)) != 2 {
				t.Fatal("the source VM lost its disks")
			}
		})
	}
}

func TestSimDestroyRunningVMWithSnapshot(t *testing.T) {
	_, url := startSim(t, xapisim.Options{})
	c := connect(t, url, xapi.XMLRPC)
	ctx := context.Background()
	vm, _ := plainVM(t, c, xapi.Running)
	before := countVDIs(t, c)
	if _, err := c.Snapshot(ctx, vm, "s1", nil); err != nil {
		t.Fatal(err)
	}
	own := len(disksOf(t, c, vm))
	if err := c.DestroyVM(ctx, vm); err != nil {
		t.Fatal(err)
	}
	if got := countVDIs(t, c); got != before-own {
		t.Fatalf("%d VDIs after destroying the VM and its snapshot, want %d", got, before-own)
	}
}

func TestSimDestroyBlocked(t *testing.T) {
	_, url := startSim(t, xapisim.Options{})
	c := connect(t, url, xapi.JSONRPC)
	ctx := context.Background()
	vm, _ := plainVM(t, c, xapi.Halted)
	if err := c.AddToBlockedOperations(ctx, vm, "destroy", "protected"); err != nil {
		t.Fatal(err)
	}
	if err := c.DestroyVM(ctx, vm); !xapi.IsCode(err, xapi.CodeOperationBlocked) {
		t.Fatalf("DestroyVM of a protected VM = %v, want OPERATION_BLOCKED", err)
	}
	if _, err := c.VMRecord(ctx, vm); err != nil {
		t.Fatalf("the protected VM is gone: %v", err)
	}
}

func TestSimPowerErrors(t *testing.T) {
	for _, tp := range transports {
		t.Run(tp.name, func(t *testing.T) {
			_, url := startSim(t, xapisim.Options{})
			c := connect(t, url, tp.tr)
			ctx := context.Background()
			vm, _ := plainVM(t, c, xapi.Running)
			var xe *xapi.Error
			if err := c.Start(ctx, vm, false, false); !errors.As(err, &xe) || xe.Code != xapi.CodeBadPowerState || len(xe.Params) != 3 || xe.Params[0] != string(vm) {
				t.Fatalf("Start of a running VM = %v, want VM_BAD_POWER_STATE [vm, expected, actual]", err)
			}
			if err := c.HardShutdown(ctx, vm); err != nil {
				t.Fatal(err)
			}
			if err := c.CleanShutdown(ctx, vm); !xapi.IsCode(err, xapi.CodeBadPowerState) {
				t.Fatalf("CleanShutdown of a halted VM = %v, want VM_BAD_POWER_STATE", err)
			}
			if err := c.Start(ctx, vm, false, false); err != nil {
				t.Fatal(err)
			}
			if err := c.CleanShutdown(ctx, vm); err != nil {
				t.Fatal(err)
			}
			rec, _ := c.VMRecord(ctx, vm)
			if rec.PowerState != xapi.Halted {
				t.Fatalf("power state %s after CleanShutdown", rec.PowerState)
			}
			snap, err := c.Snapshot(ctx, vm, "s", nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Start(ctx, snap, false, false); !xapi.IsCode(err, "VM_IS_SNAPSHOT") {
				t.Fatalf("Start of a snapshot = %v, want VM_IS_SNAPSHOT", err)
			}
		})
	}
}

func TestSimAsyncTasks(t *testing.T) {
	for _, tp := range transports {
		t.Run(tp.name, func(t *testing.T) {
			_, url := startSim(t, xapisim.Options{})
			c := connect(t, url, tp.tr)
			ctx := context.Background()
			vm, _ := plainVM(t, c, xapi.Halted)
			task, err := c.Async(ctx, "VM.snapshot", vm, "async")
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.WaitTask(ctx, task)
			if err != nil {
				t.Fatal(err)
			}
			snap, err := xapi.ParseTaskRef(res)
			if err != nil {
				t.Fatal(err)
			}
			if rec, err := c.VMRecord(ctx, xapi.VMRef(snap)); err != nil || rec.SnapshotOf != vm {
				t.Fatalf("task result %s: %+v, %v", snap, rec, err)
			}
			if _, err := c.TaskRecord(ctx, task); !xapi.IsCode(err, xapi.CodeHandleInvalid) {
				t.Fatalf("task after WaitTask: %v, want it destroyed", err)
			}
			if _, err := c.CallAsync(ctx, "VM.get_record", vm); err == nil {
				t.Fatal("Async of a getter succeeded")
			}
		})
	}
}

func TestSimWaitTaskCancellation(t *testing.T) {
	for _, tp := range transports {
		t.Run(tp.name, func(t *testing.T) {
			_, url := startSim(t, xapisim.Options{})
			c := connect(t, url, tp.tr)
			ctx := context.Background()
			// A task nobody completes: only the cancellation can end it.
			task, err := c.CreateTask(ctx, "never ends", "")
			if err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			if _, err := c.WaitTask(wctx, task); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("WaitTask = %v, want the context's error", err)
			}
			rec, err := c.TaskRecord(ctx, task)
			if err != nil || rec.Status != xapi.TaskCancelled {
				t.Fatalf("task after the waiter gave up: %+v, %v; want it cancelled", rec.Status, err)
			}
			if _, err := c.WaitTask(ctx, task); !xapi.IsCode(err, xapi.CodeTaskCancelled) {
				t.Fatalf("WaitTask of a cancelled task = %v, want TASK_CANCELLED", err)
			}
		})
	}
}
