package xapi_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

func TestSimLoginLogout(t *testing.T) {
	for _, tp := range transports {
		t.Run(tp.name, func(t *testing.T) {
			sim, url := startSim(t, xapisim.Options{})
			ctx := context.Background()
			c, err := xapi.New(url, xapi.WithTransport(tp.tr))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.VMs(ctx); !errors.Is(err, xapi.ErrNotLoggedIn) {
				t.Fatalf("VMs before Login = %v, want ErrNotLoggedIn", err)
			}
			if err := c.Login(ctx, simUser, simPassword); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(c.Session(), "OpaqueRef:") || sim.Sessions() != 1 {
				t.Fatalf("session %q, simulator has %d sessions", c.Session(), sim.Sessions())
			}
			if _, _, err := c.Pool(ctx); err != nil {
				t.Fatal(err)
			}
			if err := c.Logout(ctx); err != nil {
				t.Fatal(err)
			}
			if sim.Sessions() != 0 {
				t.Fatalf("simulator still has %d sessions after Logout", sim.Sessions())
			}
			if _, err := c.VMs(ctx); !errors.Is(err, xapi.ErrNotLoggedIn) {
				t.Fatalf("VMs after Logout = %v, want ErrNotLoggedIn", err)
			}
		})
	}
}

func TestSimBadPassword(t *testing.T) {
	for _, tp := range transports {
		t.Run(tp.name, func(t *testing.T) {
			_, url := startSim(t, xapisim.Options{})
			c, _ := xapi.New(url, xapi.WithTransport(tp.tr))
			err := c.Login(context.Background(), simUser, "wrong-password-123")
			var xe *xapi.Error
			if !errors.As(err, &xe) || xe.Code != xapi.CodeAuthFailed {
				t.Fatalf("Login = %v, want *Error %s", err, xapi.CodeAuthFailed)
			}
			if strings.Contains(err.Error(), "wrong-password-123") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}

func TestSimReloginOnSessionInvalid(t *testing.T) {
	for _, tp := range transports {
		t.Run(tp.name, func(t *testing.T) {
			_, url := startSim(t, xapisim.Options{})
			c := connect(t, url, tp.tr)
			old := c.Session()
			// Another tool ends our session behind the client's back.
			rawCall(t, url, "session.logout", old)
			vms, err := c.VMs(context.Background())
			if err != nil {
				t.Fatalf("VMs after the session was invalidated = %v, want a transparent re-login", err)
			}
			if len(vms) == 0 || c.Session() == old || c.Session() == "" {
				t.Fatalf("%d VMs, session %q (was %q)", len(vms), c.Session(), old)
			}
		})
	}
}

func TestSimRecords(t *testing.T) {
	for _, tp := range transports {
		t.Run(tp.name, func(t *testing.T) {
			_, url := startSim(t, xapisim.Options{VMs: 3})
			c := connect(t, url, tp.tr)
			ctx := context.Background()
			vms, err := c.VMs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var dom0, templates, plain int
			for _, vm := range vms {
				switch {
				case vm.IsControlDomain:
					dom0++
				case vm.IsATemplate:
					templates++
				default:
					plain++
				}
			}
			if dom0 != 1 || templates == 0 || plain != 3 {
				t.Fatalf("dom0 %d, templates %d, VMs %d; want 1, >0, 3", dom0, templates, plain)
			}
			ref, vm := plainVM(t, c, xapi.Running)
			checkVMLookups(t, c, ref, vm)
			checkDiskRecords(t, c, ref)
			checkPoolRecords(t, c)
		})
	}
}

func checkVMLookups(t *testing.T, c *xapi.Client, ref xapi.VMRef, vm xapi.VM) {
	t.Helper()
	ctx := context.Background()
	if vm.MemoryStaticMax <= 0 || vm.VCPUsMax <= 0 || vm.ResidentOn.IsNull() || vm.UUID == "" {
		t.Fatalf("running VM fields not decoded: %+v", vm)
	}
	byUUID, err := c.VMByUUID(ctx, vm.UUID)
	if err != nil || byUUID != ref {
		t.Fatalf("VMByUUID = %q, %v, want %q", byUUID, err, ref)
	}
	rec, err := c.VMRecord(ctx, ref)
	if err != nil || rec.UUID != vm.UUID || rec.NameLabel != vm.NameLabel {
		t.Fatalf("VMRecord = %+v, %v", rec, err)
	}
	if _, err := c.VMByUUID(ctx, "00000000-0000-0000-0000-000000000000"); !xapi.IsCode(err, "UUID_INVALID") {
		t.Fatalf("VMByUUID(unknown) = %v, want UUID_INVALID", err)
	}
	if _, err := c.VMRecord(ctx, "OpaqueRef:nope"); !xapi.IsCode(err, xapi.CodeHandleInvalid) {
		t.Fatalf("VMRecord(unknown) = %v, want HANDLE_INVALID", err)
	}
}

func checkDiskRecords(t *testing.T, c *xapi.Client, vm xapi.VMRef) {
	t.Helper()
	ctx := context.Background()
	disks := disksOf(t, c, vm)
	if len(disks) == 0 {
		t.Fatal("VM has no disks")
	}
	vdi, err := c.VDIRecord(ctx, disks[0])
	if err != nil {
		t.Fatal(err)
	}
	if vdi.VirtualSize != simDisk || vdi.SR.IsNull() || vdi.IsASnapshot {
		t.Fatalf("VDI decoded as %+v", vdi)
	}
	srs, err := c.SRs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sr, ok := srs[vdi.SR]; !ok || !slices.Contains(sr.VDIs, disks[0]) || sr.PhysicalSize <= 0 {
		t.Fatalf("SR %s of the disk: %+v (found %v)", vdi.SR, sr, ok)
	}
	vbds, err := c.VBDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, vbd := range vbds {
		found = found || (vbd.VM == vm && vbd.VDI == disks[0] && vbd.Mode != "")
	}
	if !found {
		t.Fatal("no VBD links the VM to its disk")
	}
}

func checkPoolRecords(t *testing.T, c *xapi.Client) {
	t.Helper()
	ctx := context.Background()
	_, pool, err := c.Pool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hosts, err := c.Hosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	master, ok := hosts[pool.Master]
	if !ok || master.Address == "" || master.APIVersionMajor < 2 || master.ControlDomain.IsNull() {
		t.Fatalf("pool master %s: %+v (found %v)", pool.Master, master, ok)
	}
	nets, err := c.Networks(ctx)
	if err != nil || len(nets) == 0 {
		t.Fatalf("Networks = %v, %v", nets, err)
	}
	if _, err := c.SRRecord(ctx, pool.DefaultSR); err != nil {
		t.Fatalf("default SR: %v", err)
	}
}

func TestSimEdits(t *testing.T) {
	for _, tp := range transports {
		t.Run(tp.name, func(t *testing.T) {
			_, url := startSim(t, xapisim.Options{})
			c := connect(t, url, tp.tr)
			ref, _ := plainVM(t, c, xapi.Halted)
			vdi := disksOf(t, c, ref)[0]
			for _, obj := range []xapi.Object{ref, vdi} {
				t.Run(obj.Class(), func(t *testing.T) { checkEdits(t, c, obj) })
			}
			checkBlockedStart(t, c, ref)
		})
	}
}

// meta reads name, description, other_config and tags of a VM or VDI.
func meta(t *testing.T, c *xapi.Client, obj xapi.Object) (string, string, map[string]string, []string) {
	t.Helper()
	ctx := context.Background()
	switch r := obj.(type) {
	case xapi.VMRef:
		vm, err := c.VMRecord(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return vm.NameLabel, vm.NameDescription, vm.OtherConfig, vm.Tags
	case xapi.VDIRef:
		vdi, err := c.VDIRecord(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return vdi.NameLabel, vdi.NameDescription, vdi.OtherConfig, vdi.Tags
	}
	t.Fatalf("unexpected object %T", obj)
	return "", "", nil, nil
}

func checkEdits(t *testing.T, c *xapi.Client, obj xapi.Object) {
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.SetNameLabel(ctx, obj, "renamed <&>"))
	must(c.SetNameDescription(ctx, obj, "described"))
	must(c.AddToOtherConfig(ctx, obj, "xo:backup:job", "first"))
	must(c.AddToOtherConfig(ctx, obj, "xo:backup:job", "second")) // an existing key: no MAP_DUPLICATE_KEY
	must(c.AddToOtherConfig(ctx, obj, "xbr:gone", "x"))
	must(c.RemoveFromOtherConfig(ctx, obj, "xbr:gone"))
	must(c.RemoveFromOtherConfig(ctx, obj, "never-there"))
	must(c.AddTag(ctx, obj, "xbr"))
	must(c.AddTag(ctx, obj, "doomed"))
	must(c.RemoveTag(ctx, obj, "doomed"))
	name, desc, oc, tags := meta(t, c, obj)
	if name != "renamed <&>" || desc != "described" {
		t.Fatalf("name %q, description %q", name, desc)
	}
	if oc["xo:backup:job"] != "second" {
		t.Fatalf("other_config %v, want xo:backup:job=second", oc)
	}
	if _, ok := oc["xbr:gone"]; ok {
		t.Fatalf("other_config %v still has the removed key", oc)
	}
	if !slices.Contains(tags, "xbr") || slices.Contains(tags, "doomed") {
		t.Fatalf("tags %v, want xbr and not doomed", tags)
	}
}

func checkBlockedStart(t *testing.T, c *xapi.Client, vm xapi.VMRef) {
	t.Helper()
	ctx := context.Background()
	if err := c.AddToBlockedOperations(ctx, vm, "start", "backup running"); err != nil {
		t.Fatal(err)
	}
	if err := c.AddToBlockedOperations(ctx, vm, "start", "still running"); err != nil {
		t.Fatalf("re-blocking: %v", err)
	}
	if err := c.Start(ctx, vm, false, false); !xapi.IsCode(err, xapi.CodeOperationBlocked) {
		t.Fatalf("Start of a blocked VM = %v, want OPERATION_BLOCKED", err)
	}
	rec, _ := c.VMRecord(ctx, vm)
	if rec.BlockedOperations["start"] != "still running" {
		t.Fatalf("blocked_operations %v", rec.BlockedOperations)
	}
	if err := c.RemoveFromBlockedOperations(ctx, vm, "start"); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx, vm, false, false); err != nil {
		t.Fatalf("Start after unblocking: %v", err)
	}
}
