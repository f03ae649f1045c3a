package xapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"testing"
	"time"

	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
	"xbr/shared/xapi/xmlrpc"
)

const (
	simUser     = "root"
	simPassword = "sim-secret"
	simDisk     = 3 << 20 // three chunks: small, but more than one
)

var transports = []struct {
	name string
	tr   xapi.Transport
}{
	{"xmlrpc", xapi.XMLRPC},
	{"jsonrpc", xapi.JSONRPC},
}

// startSim runs a simulator on 127.0.0.1 for the test.
func startSim(t *testing.T, opts xapisim.Options) (*xapisim.Server, string) {
	t.Helper()
	opts.User, opts.Password = simUser, simPassword
	if opts.DiskSize == 0 {
		opts.DiskSize = simDisk
	}
	opts.DataDir = t.TempDir()
	sim, err := xapisim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return sim, url
}

// connect returns a logged-in client, with opts after the test's own; it
// logs out at the end of the test.
func connect(t *testing.T, url string, tr xapi.Transport, opts ...xapi.Option) *xapi.Client {
	t.Helper()
	opts = append([]xapi.Option{xapi.WithTransport(tr), xapi.WithTaskPoll(5*time.Millisecond, 100*time.Millisecond)}, opts...)
	c, err := xapi.New(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(context.Background(), simUser, simPassword); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Logout(context.Background()) })
	return c
}

// plainVM returns an ordinary VM (not a template, snapshot or dom0) in state.
func plainVM(t *testing.T, c *xapi.Client, state xapi.PowerState) (xapi.VMRef, xapi.VM) {
	t.Helper()
	vms, err := c.VMs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for ref, vm := range vms {
		if !vm.IsATemplate && !vm.IsASnapshot && !vm.IsControlDomain && vm.PowerState == state {
			return ref, vm
		}
	}
	t.Fatalf("no %s VM in the simulator", state)
	return "", xapi.VM{}
}

// disksOf returns the VDIs behind vm's Disk VBDs.
func disksOf(t *testing.T, c *xapi.Client, vm xapi.VMRef) []xapi.VDIRef {
	t.Helper()
	ctx := context.Background()
	rec, err := c.VMRecord(ctx, vm)
	if err != nil {
		t.Fatal(err)
	}
	var out []xapi.VDIRef
	for _, ref := range rec.VBDs {
		vbd, err := c.VBDRecord(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if vbd.Type == "Disk" && !vbd.VDI.IsNull() {
			out = append(out, vbd.VDI)
		}
	}
	return out
}

// diskSum streams a disk with ExportRawVDI and returns its SHA-256 and size.
func diskSum(t *testing.T, c *xapi.Client, vdi xapi.VDIRef) ([32]byte, int64) {
	t.Helper()
	tr, err := c.ExportRawVDI(context.Background(), vdi)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, err := io.Copy(h, tr)
	if err != nil {
		t.Fatalf("read disk %s: %v", vdi, err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("close disk %s: %v", vdi, err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum, n
}

// rawCall sends one XML-RPC call as another tool would, outside the client.
func rawCall(t *testing.T, url, method string, params ...any) {
	t.Helper()
	body, err := xmlrpc.EncodeCall(method, params)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url+"/", "text/xml", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	v, err := xmlrpc.DecodeResponse(data)
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := xmlrpc.AsMap(v); m["Status"] != "Success" {
		t.Fatalf("%s: %v", method, m)
	}
}

// countVDIs returns how many VDIs the pool has.
func countVDIs(t *testing.T, c *xapi.Client) int {
	t.Helper()
	vdis, err := c.VDIs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(vdis)
}

// countVMs returns how many VM records the pool has.
func countVMs(t *testing.T, c *xapi.Client) int {
	t.Helper()
	vms, err := c.VMs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(vms)
}

// sha256Of hashes a stream.
func sha256Of(t *testing.T, r io.Reader) [32]byte {
	t.Helper()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}
