package replicate_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"xbr/functions/replicate"
	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

func spec(vm, sr string, retention int) replicate.Spec {
	return replicate.Spec{Job: "dr", Schedule: "hourly", VMUUID: vm, TargetSR: sr, CopyRetention: retention}
}

func TestTwoRunsKeepOneCompleteCopyPerVM(t *testing.T) {
	ctx := context.Background()
	main, standby := startPool(t, "main", 2), startPool(t, "standby", 1)
	clk := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	vms := main.sourceVMs(t)
	for run, codec := range []string{"", "zstd"} {
		for _, vm := range vms {
			s := spec(vm.UUID, "Local storage", 1)
			s.Compression = codec
			res, err := replicate.Replicate(ctx, main.client, standby.client, s, replicate.Options{Now: clk.now})
			if err != nil {
				t.Fatalf("run %d, vm %s: %v", run+1, vm.NameLabel, err)
			}
			if res.Bytes <= 0 || res.Reused {
				t.Errorf("run %d: bytes %d, reused %v", run+1, res.Bytes, res.Reused)
			}
			if wantPruned := run; len(res.Pruned) != wantPruned {
				t.Errorf("run %d: pruned %d copies, want %d", run+1, len(res.Pruned), wantPruned)
			}
		}
	}
	srUUID := standby.srUUID(t)
	for _, vm := range vms {
		cs := standby.copiesOf(t, vm.UUID)
		if len(cs) != 1 {
			t.Fatalf("vm %s: %d copies on the standby pool, want 1: %+v", vm.NameLabel, len(cs), cs)
		}
		checkCopy(t, standby, cs[0], vm, srUUID)
		srcRef, err := main.client.VMByUUID(ctx, vm.UUID)
		if err != nil {
			t.Fatal(err)
		}
		if !sameDisks(main.diskDigests(t, srcRef), standby.diskDigests(t, cs[0].Ref)) {
			t.Errorf("vm %s: the copy's disks differ from the source's", vm.NameLabel)
		}
	}
	if snaps := main.sim.Snapshots(); len(snaps) != 0 {
		t.Errorf("%d snapshots left on the source pool: %+v", len(snaps), snaps)
	}
}

func checkCopy(t *testing.T, p *testPool, cp replicate.Copy, src xapi.VM, srUUID string) {
	t.Helper()
	rec, err := p.client.VMRecord(context.Background(), cp.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if !hasTag(rec.Tags, replicate.TagDR) || hasTag(rec.Tags, replicate.TagHADisabled) {
		t.Errorf("copy %s of a VM without HA: tags %v, want %q and not %q", cp.Name, rec.Tags, replicate.TagDR, replicate.TagHADisabled)
	}
	for _, op := range []string{"start", "start_on"} {
		if rec.BlockedOperations[op] == "" {
			t.Errorf("copy %s: %s not blocked: %v", cp.Name, op, rec.BlockedOperations)
		}
	}
	if got := rec.OtherConfig[xotag.KeySR]; got != srUUID {
		t.Errorf("copy %s: xo:backup:sr = %q, want %q", cp.Name, got, srUUID)
	}
	want := replicate.CopyName(src.NameLabel, "dr", cp.Datetime)
	if rec.NameLabel != want || cp.VMName != src.NameLabel {
		t.Errorf("copy name %q (source %q), want %q", rec.NameLabel, cp.VMName, want)
	}
	if rec.IsATemplate || rec.PowerState != xapi.Halted {
		t.Errorf("copy %s: template %v, power %s", cp.Name, rec.IsATemplate, rec.PowerState)
	}
	err = p.client.Start(context.Background(), cp.Ref, false, false)
	if !xapi.IsCode(err, xapi.CodeOperationBlocked) {
		t.Errorf("starting copy %s: %v, want OPERATION_BLOCKED", cp.Name, err)
	}
}

// A copy is left out of HA on the standby pool, as Xen Orchestra's copies
// are: XAPI carries the source VM's ha_restart_priority through the
// snapshot and the import, so a failed-over copy would be in the standby
// pool's HA plan without anyone choosing it. The copy is tagged "HA
// disabled" so that whoever fails it over knows to turn HA back on; the
// source VM keeps its priority.
func TestCopyIsLeftOutOfHA(t *testing.T) {
	ctx := context.Background()
	main, standby := startPool(t, "main", 1), startPool(t, "standby", 1)
	vm := main.sourceVMs(t)[0]
	ref, err := main.client.VMByUUID(ctx, vm.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if err := main.client.SetHARestartPriority(ctx, ref, "restart"); err != nil {
		t.Fatal(err)
	}
	res, err := replicate.Replicate(ctx, main.client, standby.client, spec(vm.UUID, "Local storage", 1), replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cp, err := standby.client.VMRecord(ctx, res.Copy.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if cp.HARestartPriority != "" || !hasTag(cp.Tags, replicate.TagHADisabled) {
		t.Errorf("copy %s: ha_restart_priority %q, tags %v; want \"\" and the tag %q", res.Copy.Name, cp.HARestartPriority, cp.Tags, replicate.TagHADisabled)
	}
	src, err := main.client.VMRecord(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if src.HARestartPriority != "restart" {
		t.Errorf("source VM: ha_restart_priority %q after the replication, want restart", src.HARestartPriority)
	}
}

func hasTag(tags []string, tag string) bool {
	for _, t := range tags {
		if t == tag {
			return true
		}
	}
	return false
}

func TestDroppedExportLeavesNoCopyAndKeepsThePreviousOne(t *testing.T) {
	ctx := context.Background()
	main, standby := startPool(t, "main", 1), startPool(t, "standby", 1)
	vm := main.sourceVMs(t)[0]
	s := spec(vm.UUID, standby.srUUID(t), 1)
	first, err := replicate.Replicate(ctx, main.client, standby.client, s, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	before := len(standby.userVMs(t))
	main.sim.SetFaults(xapisimDrop(first.Bytes / 2))
	if _, err := replicate.Replicate(ctx, main.client, standby.client, s, replicate.Options{}); err == nil {
		t.Fatal("a replication whose export was cut succeeded")
	}
	cs := standby.copiesOf(t, vm.UUID)
	if len(cs) != 1 || cs[0].UUID != first.Copy.UUID || !cs[0].Standby() {
		t.Fatalf("after the cut export: copies %+v, want only %s", cs, first.Copy.UUID)
	}
	if after := len(standby.userVMs(t)); after != before {
		t.Errorf("standby pool has %d VMs after the failed transfer, %d before", after, before)
	}
	if snaps := main.sim.Snapshots(); len(snaps) != 0 {
		t.Errorf("%d snapshots left on the source pool", len(snaps))
	}
}

func TestInterruptedCopyIsDestroyedByTheNextReplication(t *testing.T) {
	ctx := context.Background()
	main, standby := startPool(t, "main", 1), startPool(t, "standby", 1)
	vm := main.sourceVMs(t)[0]
	s := spec(vm.UUID, "Local storage", 3)
	first, err := replicate.Replicate(ctx, main.client, standby.client, s, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// What a transfer cut before its end looks like: no xo:backup:sr.
	if err := standby.client.RemoveFromOtherConfig(ctx, first.Copy.Ref, xotag.KeySR); err != nil {
		t.Fatal(err)
	}
	second, err := replicate.Replicate(ctx, main.client, standby.client, s, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cs := standby.copiesOf(t, vm.UUID)
	if len(cs) != 1 || cs[0].UUID != second.Copy.UUID {
		t.Fatalf("copies %+v, want only the new %s", cs, second.Copy.UUID)
	}
}

func TestRedeliveredRunReturnsTheSameCopy(t *testing.T) {
	ctx := context.Background()
	main, standby := startPool(t, "main", 1), startPool(t, "standby", 1)
	vm := main.sourceVMs(t)[0]
	s := spec(vm.UUID, "Local storage", 2)
	s.RunID = "run-1"
	first, err := replicate.Replicate(ctx, main.client, standby.client, s, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := replicate.Replicate(ctx, main.client, standby.client, s, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Reused || again.Copy.UUID != first.Copy.UUID || again.Bytes != first.Bytes ||
		!again.Copy.Completed.Equal(first.Copy.Completed) || again.Copy.Run != "run-1" {
		t.Errorf("redelivery: %+v, first %+v", again, first)
	}
	if n := len(standby.copiesOf(t, vm.UUID)); n != 1 {
		t.Errorf("%d copies after a redelivery, want 1", n)
	}
	if n := main.sim.Requests()["/export"]; n != 1 {
		t.Errorf("%d exports, want 1 (the redelivery must not transfer again)", n)
	}
}

func TestFailoverStartsTheLatestCopyAndRetentionSparesIt(t *testing.T) {
	ctx := context.Background()
	main, standby := startPool(t, "main", 1), startPool(t, "standby", 1)
	vm := main.sourceVMs(t)[0]
	clk := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	s := spec(vm.UUID, "Local storage", 2)
	var made []replicate.Result
	for range 2 {
		r, err := replicate.Replicate(ctx, main.client, standby.client, s, replicate.Options{Now: clk.now})
		if err != nil {
			t.Fatal(err)
		}
		made = append(made, r)
	}
	if _, err := replicate.Failover(ctx, standby.client, "no-such-vm", replicate.Latest, true); !errors.Is(err, replicate.ErrNoCopy) {
		t.Errorf("failover of an unknown VM: %v, want ErrNoCopy", err)
	}
	res, err := replicate.Failover(ctx, standby.client, vm.NameLabel, replicate.Latest, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Copy.UUID != made[1].Copy.UUID || !res.Started || !res.Unblocked || res.PowerState != "Running" {
		t.Fatalf("failover: %+v, want the latest copy %s started", res, made[1].Copy.UUID)
	}
	rec, err := standby.client.VMRecord(ctx, res.Copy.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if rec.PowerState != xapi.Running || rec.BlockedOperations["start"] != "" || rec.BlockedOperations["start_on"] != "" {
		t.Errorf("after failover: power %s, blocked %v", rec.PowerState, rec.BlockedOperations)
	}
	again, err := replicate.Failover(ctx, standby.client, vm.UUID, replicate.Selector{At: made[1].Copy.Datetime}, true)
	if err != nil || again.Started || again.Copy.UUID != res.Copy.UUID {
		t.Errorf("repeated failover: %+v, %v", again, err)
	}
	// Two more runs with retention 2: the failed-over copy is no longer a
	// standby copy and is never pruned.
	for range 2 {
		if _, err := replicate.Replicate(ctx, main.client, standby.client, s, replicate.Options{Now: clk.now}); err != nil {
			t.Fatal(err)
		}
	}
	var standbyN, failedOver int
	for _, c := range standby.copiesOf(t, vm.UUID) {
		switch {
		case c.Standby():
			standbyN++
		case c.UUID == res.Copy.UUID:
			failedOver++
		}
	}
	if standbyN != 2 || failedOver != 1 {
		t.Errorf("standby copies %d (want 2), failed-over copy kept %d (want 1)", standbyN, failedOver)
	}
}

func TestTargetSR(t *testing.T) {
	ctx := context.Background()
	standby := startPool(t, "standby", 1)
	uuid := standby.srUUID(t)
	for _, tc := range []struct {
		target, want, err string
	}{
		{target: "Local storage", want: uuid},
		{target: uuid, want: uuid},
		{target: "nope", err: `target sr "nope": no SR that can hold disks has this uuid or name`},
	} {
		_, got, err := replicate.ResolveSR(ctx, standby.client, tc.target)
		switch {
		case tc.err != "" && (err == nil || err.Error() != tc.err):
			t.Errorf("%q: error %v, want %q", tc.target, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%q: %q, %v; want %q", tc.target, got, err, tc.want)
		}
	}
}

// A copy that runs is somebody's production VM, whatever its blocks say: a
// copy Xen Orchestra made blocks start only, and `xe vm-start on=<host>`
// (start_on) boots it with start still blocked. Retention never shuts it
// down and destroys it; before the fix the next run hard-shut it down and
// destroyed its disks.
func TestRetentionSparesARunningCopyWhoseStartIsBlocked(t *testing.T) {
	ctx := context.Background()
	main, standby := startPool(t, "main", 1), startPool(t, "standby", 1)
	vm := main.sourceVMs(t)[0]
	clk := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	s := spec(vm.UUID, "Local storage", 1)
	first, err := replicate.Replicate(ctx, main.client, standby.client, s, replicate.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	c := standby.client
	if err := c.RemoveFromBlockedOperations(ctx, first.Copy.Ref, "start"); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx, first.Copy.Ref, false, false); err != nil {
		t.Fatal(err)
	}
	if err := c.AddToBlockedOperations(ctx, first.Copy.Ref, "start", replicate.BlockReason); err != nil {
		t.Fatal(err)
	}
	second, err := replicate.Replicate(ctx, main.client, standby.client, s, replicate.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Pruned) != 0 || second.PruneErr != nil {
		t.Errorf("pruned %+v (%v), want nothing: the only older copy runs", second.Pruned, second.PruneErr)
	}
	rec, err := c.VMRecord(ctx, first.Copy.Ref)
	if err != nil {
		t.Fatalf("the running copy is gone: %v", err)
	}
	if rec.PowerState != xapi.Running {
		t.Errorf("the running copy is %s after the next run", rec.PowerState)
	}
}
