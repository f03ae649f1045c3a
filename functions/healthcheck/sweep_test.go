package healthcheck_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/healthcheck"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
	"xbr/shared/xotag"
)

// onePool serves one logged-in client as pool "lab".
type onePool struct{ c *xapi.Client }

func (p onePool) Names() []string { return []string{"lab"} }
func (p onePool) Client(context.Context, string) (*xapi.Client, error) {
	return p.c, nil
}

// TestSweep: a test VM whose mark is stale (or missing) is destroyed with
// its disks; one whose check renewed its mark, and any VM without the tag,
// are left alone.
func TestSweep(t *testing.T) {
	sim, err := xapisim.New(xapisim.Options{VMs: 4, DiskSize: 1 << 20, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	u, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := xapi.New(u)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	user, pass := sim.Credentials()
	if err := c.Login(ctx, user, pass); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 22, 0, 0, 0, time.UTC)
	var vms []xapisim.VMInfo
	for _, vm := range sim.VMs() {
		if !vm.IsTemplate && !vm.IsSnapshot {
			vms = append(vms, vm)
		}
	}
	if len(vms) < 4 {
		t.Fatalf("%d VMs in the simulator, want 4", len(vms))
	}
	mark := func(vm xapisim.VMInfo, tag bool, alive time.Time) {
		ref := xapi.VMRef(vm.Ref)
		if tag {
			if err := c.AddTag(ctx, ref, xotag.TagHealthCheck); err != nil {
				t.Fatal(err)
			}
		}
		if !alive.IsZero() {
			if err := c.AddToOtherConfig(ctx, ref, xotag.KeyHealthCheckAlive, alive.Format(time.RFC3339)); err != nil {
				t.Fatal(err)
			}
		}
	}
	stale, noMark, live, untagged := vms[0], vms[1], vms[2], vms[3]
	mark(stale, true, now.Add(-time.Minute))
	mark(noMark, true, time.Time{})
	mark(live, true, now.Add(-2*time.Second))
	mark(untagged, false, now.Add(-time.Hour))
	vdis := len(sim.Refs("VDI"))
	h := healthcheck.New(onePool{c}, nil, nil, xapiSubjects(t), healthcheck.Options{Now: func() time.Time { return now }})
	swept := h.Sweep(ctx, "lab")
	if len(swept) != 2 || !slices.Contains(swept, stale.UUID) || !slices.Contains(swept, noMark.UUID) {
		t.Fatalf("swept %v, want the stale %s and the unmarked %s", swept, stale.UUID, noMark.UUID)
	}
	left := map[string]bool{}
	for _, vm := range sim.VMs() {
		left[vm.UUID] = true
	}
	if left[stale.UUID] || left[noMark.UUID] || !left[live.UUID] || !left[untagged.UUID] {
		t.Fatalf("VMs left %v", left)
	}
	if got, want := len(sim.Refs("VDI")), vdis-len(stale.VDIs)-len(noMark.VDIs); got != want {
		t.Fatalf("%d VDIs after the sweep, want %d: the swept VMs' disks stayed", got, want)
	}
}

func xapiSubjects(t *testing.T) events.Subjects {
	t.Helper()
	s, err := events.NewSubjects("")
	if err != nil {
		t.Fatal(err)
	}
	return s
}
