package runs_test

import (
	"context"
	"sort"
	"testing"

	"xbr/events"
	"xbr/shared/config"
	"xbr/shared/runs"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
	"xbr/shared/xotag"
)

// TestResolveLeavesOutTestVMsAndCopies: while a health check runs, its
// throw-away test VM (a clone of the source, tags and all, marked
// xbr:healthcheck) and a replication's standby copy sit in the pool beside
// the VMs. No job kind selects them, by every VM or by a tag they carry;
// one listed by uuid is left out with the reason (skipped).
func TestResolveLeavesOutTestVMsAndCopies(t *testing.T) {
	sim, pools := startSim(t)
	ctx := context.Background()
	c, err := pools.Client(ctx, "lab")
	if err != nil {
		t.Fatal(err)
	}
	var halted []xapisim.VMInfo
	var all []string
	for _, v := range sim.VMs() {
		if v.IsTemplate || v.IsSnapshot {
			continue
		}
		all = append(all, v.UUID)
		if v.PowerState == "Halted" {
			halted = append(halted, v)
		}
	}
	sort.Strings(all)
	if len(halted) == 0 {
		t.Fatal("no halted VM in the simulator to clone")
	}
	src := halted[0]
	if err := c.AddTag(ctx, xapi.VMRef(src.Ref), "prod"); err != nil {
		t.Fatal(err)
	}
	testVM := clone(ctx, t, c, src, "xbr health check of "+src.NameLabel)
	if err := c.AddTag(ctx, testVM.ref, xotag.TagHealthCheck); err != nil {
		t.Fatal(err)
	}
	standby := clone(ctx, t, c, src, src.NameLabel+" - dr - (20260101T000000Z)")
	for k, v := range map[string]string{xotag.KeyJob: "00000000-0000-4000-8000-0000000000d1", xotag.KeyVM: src.UUID,
		xotag.KeySR: "00000000-0000-4000-8000-0000000000d2"} {
		if err := c.AddToOtherConfig(ctx, standby.ref, k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.AddToBlockedOperations(ctx, standby.ref, "start", "a standby copy"); err != nil {
		t.Fatal(err)
	}

	every := config.Job{Name: "nightly", Pools: []string{"lab"}}
	if got, err := runs.Resolve(ctx, pools, every); err != nil || !equal(uuids(got), all) {
		t.Errorf("a job of every VM selects %v, %v; want the VMs %v without the test VM %s and the standby copy %s",
			uuids(got), err, all, testVM.uuid, standby.uuid)
	}
	byTag := config.Job{Name: "prod", Pools: []string{"lab"}, VMs: config.VMSelection{Tags: []string{"prod"}}}
	if got, err := runs.Resolve(ctx, pools, byTag); err != nil || !equal(uuids(got), []string{src.UUID}) {
		t.Errorf("a job of tag prod selects %v, %v; want only %s", uuids(got), err, src.UUID)
	}
	listed := config.Job{Name: "listed", Pools: []string{"lab"}, VMs: config.VMSelection{UUIDs: []string{testVM.uuid, standby.uuid}}}
	got, err := runs.Resolve(ctx, pools, listed)
	if err != nil || len(got) != 2 {
		t.Fatalf("a job listing the test VM and the copy = %+v, %v; want both left out", got, err)
	}
	for _, v := range got {
		if v.Result == nil || v.Result.Status != events.StatusSkipped || v.Pool != "lab" {
			t.Errorf("listed %s = %+v, want skipped with a reason", v.UUID, v)
		}
	}
}

type cloned struct {
	ref  xapi.VMRef
	uuid string
}

func clone(ctx context.Context, t *testing.T, c *xapi.Client, src xapisim.VMInfo, name string) cloned {
	t.Helper()
	ref, err := c.Clone(ctx, xapi.VMRef(src.Ref), name)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := c.VMRecord(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	return cloned{ref, rec.UUID}
}
