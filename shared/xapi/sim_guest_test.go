package xapi_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// waitVM polls vm's record until ok says so, or fails the test after 5s.
func waitVM(t *testing.T, c *xapi.Client, vm xapi.VMRef, what string, ok func(xapi.VM) bool) xapi.VM {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rec, err := c.VMRecord(context.Background(), vm)
		if err != nil {
			t.Fatal(err)
		}
		if ok(rec) {
			return rec
		}
		if time.Now().After(deadline) {
			t.Fatalf("VM %s: %s: not within 5s (power %s, guest_metrics %s)", rec.UUID, what, rec.PowerState, rec.GuestMetrics)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func simPost(t *testing.T, base, path string, q url.Values, want int) {
	t.Helper()
	resp, err := http.Post(base+path+"?"+q.Encode(), "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("POST %s?%s: HTTP %d, want %d", path, q.Encode(), resp.StatusCode, want)
	}
}

// TestSimGuestBoots: a started VM's guest reports after the boot delay
// (VM_guest_metrics with PV_drivers_detected), a planned health check
// script's verdict appears in xenstore_data, and a shutdown drops the
// metrics.
func TestSimGuestBoots(t *testing.T) {
	for _, tp := range transports {
		t.Run(tp.name, func(t *testing.T) {
			_, base := startSim(t, xapisim.Options{BootDelay: 50 * time.Millisecond})
			c := connect(t, base, tp.tr)
			ctx := context.Background()
			vm, _ := plainVM(t, c, xapi.Halted)
			if err := c.SetXenStoreKey(ctx, vm, "vm-data/xo-backup-health-check", "planned"); err != nil {
				t.Fatal(err)
			}
			if err := c.Start(ctx, vm, false, false); err != nil {
				t.Fatal(err)
			}
			rec := waitVM(t, c, vm, "guest metrics", func(v xapi.VM) bool { return !v.GuestMetrics.IsNull() })
			gm, err := c.GuestMetricsRecord(ctx, rec.GuestMetrics)
			if err != nil || !gm.PVDriversDetected || gm.OSVersion["distro"] == "" {
				t.Fatalf("guest metrics = %+v, %v; want PV drivers detected", gm, err)
			}
			xs, err := c.XenStoreData(ctx, vm)
			if err != nil || xs["vm-data/xo-backup-health-check"] != "success" {
				t.Fatalf("xenstore_data = %v, %v; want the script's success", xs, err)
			}
			if err := c.HardShutdown(ctx, vm); err != nil {
				t.Fatal(err)
			}
			if rec, _ := c.VMRecord(ctx, vm); !rec.GuestMetrics.IsNull() {
				t.Fatalf("guest_metrics %s after the shutdown, want none", rec.GuestMetrics)
			}
			if all, err := c.Call(ctx, "VM_guest_metrics.get_all"); err != nil || len(all.([]any)) != 0 {
				t.Fatalf("VM_guest_metrics after the shutdown: %v, %v; want none", all, err)
			}
		})
	}
}

// TestSimGuestFaults: the behaviours set by uuid, by name prefix and for
// every VM through the /sim/ endpoints.
func TestSimGuestFaults(t *testing.T) {
	_, base := startSim(t, xapisim.Options{BootDelay: 30 * time.Millisecond, SlowBootDelay: time.Hour})
	c := connect(t, base, xapi.JSONRPC)
	ctx := context.Background()
	vm, rec := plainVM(t, c, xapi.Halted)
	simPost(t, base, "/sim/vm/"+rec.UUID+"/fault", url.Values{"health": {"never-boots"}}, http.StatusNoContent)
	if err := c.Start(ctx, vm, false, false); err != nil {
		t.Fatal(err)
	}
	waitVM(t, c, vm, "halts by itself", func(v xapi.VM) bool { return v.PowerState == xapi.Halted })
	if r, _ := c.VMRecord(ctx, vm); !r.GuestMetrics.IsNull() {
		t.Fatal("a guest that never boots reported")
	}

	simPost(t, base, "/sim/vm/"+rec.UUID+"/fault", url.Values{"health": {"guest-failure"}}, http.StatusNoContent)
	if err := c.SetXenStoreKey(ctx, vm, "vm-data/xo-backup-health-check", "planned"); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx, vm, false, false); err != nil {
		t.Fatal(err)
	}
	waitVM(t, c, vm, "guest metrics", func(v xapi.VM) bool { return !v.GuestMetrics.IsNull() })
	if xs, _ := c.XenStoreData(ctx, vm); xs["vm-data/xo-backup-health-check"] != "failure" || xs["vm-data/xo-backup-health-check-error"] == "" {
		t.Fatalf("xenstore_data = %v, want the script's failure and its reason", xs)
	}
	simPost(t, base, "/sim/vm/"+rec.UUID+"/xenstore", url.Values{"key": {"vm-data/custom"}, "value": {"42"}}, http.StatusNoContent)
	if xs, _ := c.XenStoreData(ctx, vm); xs["vm-data/custom"] != "42" {
		t.Fatalf("xenstore_data = %v, want the guest's vm-data/custom", xs)
	}
	simPost(t, base, "/sim/vm/"+rec.UUID+"/xenstore", url.Values{"key": {"data/other"}, "value": {"1"}}, http.StatusBadRequest)
	simPost(t, base, "/sim/fault", url.Values{"health": {"explodes"}}, http.StatusBadRequest)

	// A name prefix applies to VMs made later (a health check's test VM).
	if err := c.HardShutdown(ctx, vm); err != nil {
		t.Fatal(err)
	}
	other, _ := plainVM(t, c, xapi.Running)
	if err := c.HardShutdown(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := c.SetNameLabel(ctx, other, "hc web-1"); err != nil {
		t.Fatal(err)
	}
	simPost(t, base, "/sim/fault", url.Values{"health": {"slow-boot"}, "name_label": {"hc "}}, http.StatusNoContent)
	if err := c.Start(ctx, other, false, false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond) // five boot delays: a slow guest has not reported
	if r, _ := c.VMRecord(ctx, other); !r.GuestMetrics.IsNull() || r.PowerState != xapi.Running {
		t.Fatalf("a slow guest: power %s, guest_metrics %s; want running, no report yet", r.PowerState, r.GuestMetrics)
	}
}

// TestSimClone: VM.clone makes a VM with its own disks; destroying the
// clone with its disks leaves the source's.
func TestSimClone(t *testing.T) {
	_, base := startSim(t, xapisim.Options{DisksPerVM: 2})
	c := connect(t, base, xapi.XMLRPC)
	ctx := context.Background()
	vm, src := plainVM(t, c, xapi.Halted)
	before := countVDIs(t, c)
	clone, err := c.Clone(ctx, vm, "copy of "+src.NameLabel)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := c.VMRecord(ctx, clone)
	if err != nil || rec.IsASnapshot || rec.IsATemplate || rec.NameLabel != "copy of "+src.NameLabel || rec.UUID == src.UUID {
		t.Fatalf("clone = %+v, %v", rec, err)
	}
	if got := countVDIs(t, c); got != before+2 {
		t.Fatalf("%d VDIs after the clone, want %d", got, before+2)
	}
	if err := c.DestroyVM(ctx, clone); err != nil {
		t.Fatal(err)
	}
	if got := countVDIs(t, c); got != before || len(disksOf(t, c, vm)) != 2 {
		t.Fatalf("%d VDIs after destroying the clone, want %d, the source's kept", got, before)
	}
}
