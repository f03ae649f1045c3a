package replicate_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"testing"
	"time"

	"xbr/functions/replicate"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// testPool is a simulated pool and a logged-in client.
type testPool struct {
	sim    *xapisim.Server
	url    string
	client *xapi.Client
}

func startPool(t testing.TB, name string, vms int) *testPool {
	t.Helper()
	sim, url, c := testsupport.StartSim(t, xapisim.Options{VMs: vms, DiskSize: 2 << 20, DataDir: t.TempDir(), PoolName: name})
	return &testPool{sim: sim, url: url, client: c}
}

// userVMs are the pool's ordinary VMs (no snapshot, template or dom0).
func (p *testPool) userVMs(t *testing.T) map[xapi.VMRef]xapi.VM {
	t.Helper()
	vms, err := p.client.VMs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[xapi.VMRef]xapi.VM{}
	for ref, vm := range vms {
		if !vm.IsASnapshot && !vm.IsATemplate && !vm.IsControlDomain {
			out[ref] = vm
		}
	}
	return out
}

// sourceVMs are the ordinary VMs of a pool that has no copies yet.
func (p *testPool) sourceVMs(t *testing.T) []xapi.VM {
	t.Helper()
	var out []xapi.VM
	for _, vm := range p.userVMs(t) {
		out = append(out, vm)
	}
	if len(out) == 0 {
		t.Fatal("no VM in the source pool")
	}
	return out
}

func (p *testPool) copies(t *testing.T) []replicate.Copy {
	t.Helper()
	cs, err := replicate.ListCopies(context.Background(), p.client)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func (p *testPool) copiesOf(t *testing.T, vmUUID string) []replicate.Copy {
	t.Helper()
	var out []replicate.Copy
	for _, c := range p.copies(t) {
		if c.VMUUID == vmUUID {
			out = append(out, c)
		}
	}
	return out
}

func (p *testPool) srUUID(t *testing.T) string {
	t.Helper()
	rec, err := p.sim.Record("SR", p.sim.SRRef())
	if err != nil {
		t.Fatal(err)
	}
	return rec["uuid"].(string)
}

// diskDigests are the SHA-256 of each disk of vm, in VBD order, read with
// /export_raw_vdi.
func (p *testPool) diskDigests(t *testing.T, vm xapi.VMRef) [][32]byte {
	t.Helper()
	info, err := p.sim.VM(string(vm))
	if err != nil {
		t.Fatal(err)
	}
	var out [][32]byte
	for _, vdi := range info.VDIs {
		tr, err := p.client.ExportRawVDI(context.Background(), xapi.VDIRef(vdi))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.Copy(h, tr); err != nil {
			t.Fatal(err)
		}
		_ = tr.Close()
		out = append(out, [32]byte(h.Sum(nil)))
	}
	if len(out) == 0 {
		t.Fatalf("VM %s has no disk", vm)
	}
	return out
}

func sameDisks(a, b [][32]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i][:], b[i][:]) {
			return false
		}
	}
	return true
}

// clock is an injected time that each call advances by a minute.
type clock struct{ t time.Time }

func (c *clock) now() time.Time {
	c.t = c.t.Add(time.Minute)
	return c.t
}

// xapisimDrop cuts /export after that many bytes (0: heals the pool).
func xapisimDrop(after int64) xapisim.Faults { return xapisim.Faults{DropAfter: after} }
