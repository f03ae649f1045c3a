package xapi_test

import (
	"context"
	"testing"

	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// TestCachedVMsFollowsEvents: the pool view costs one event.from with every
// record, then only changes; it sees added, modified and removed VMs, on
// both transports, and matches VM.get_all_records.
func TestCachedVMsFollowsEvents(t *testing.T) {
	for _, tr := range []xapi.Transport{xapi.XMLRPC, xapi.JSONRPC} {
		t.Run(tr.String(), func(t *testing.T) {
			sim, url := startSim(t, xapisim.Options{VMs: 20})
			c := connect(t, url, tr)
			ctx := context.Background()
			assertSameVMs(t, c)
			vm, rec := plainVM(t, c, xapi.Halted)
			if err := c.SetNameLabel(ctx, vm, rec.NameLabel+" renamed"); err != nil {
				t.Fatal(err)
			}
			snap, err := c.Snapshot(ctx, vm, "snap", nil)
			if err != nil {
				t.Fatal(err)
			}
			assertSameVMs(t, c)
			if err := c.DestroyVM(ctx, snap); err != nil {
				t.Fatal(err)
			}
			before := sim.Calls()
			got := assertSameVMs(t, c)
			if _, ok := got[snap]; ok {
				t.Errorf("destroyed snapshot %s still in the view", snap)
			}
			if got[vm].NameLabel != rec.NameLabel+" renamed" {
				t.Errorf("renamed VM is %q in the view", got[vm].NameLabel)
			}
			if d := sim.Calls()["event.from"] - before["event.from"]; d != 1 {
				t.Errorf("%d event.from calls for one question, want 1", d)
			}
		})
	}
}

// assertSameVMs compares the view with VM.get_all_records and returns it.
func assertSameVMs(t *testing.T, c *xapi.Client) map[xapi.VMRef]xapi.VM {
	t.Helper()
	ctx := context.Background()
	view, err := c.CachedVMs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := c.VMs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(view) != len(all) {
		t.Fatalf("view has %d VMs, get_all_records %d", len(view), len(all))
	}
	for ref, want := range all {
		got, ok := view[ref]
		if !ok || got.NameLabel != want.NameLabel || got.IsASnapshot != want.IsASnapshot || got.UUID != want.UUID {
			t.Errorf("view of %s = %+v, want %+v", ref, got.NameLabel, want.NameLabel)
		}
	}
	return view
}
