package xapi_test

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// startPoolSim serves a simulated pool of n hosts over HTTPS, each host
// with its own self-signed certificate.
func startPoolSim(t *testing.T, n int) (*xapisim.Server, []string) {
	t.Helper()
	sim, err := xapisim.New(xapisim.Options{Hosts: n, VMs: 2, User: simUser, Password: simPassword,
		DiskSize: simDisk, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	urls, err := sim.StartHosts(0)
	if err != nil {
		t.Fatal(err)
	}
	return sim, urls
}

// pinnedClient logs in to url trusting only the certificate pinned.
func pinnedClient(t *testing.T, url, pin string) *xapi.Client {
	t.Helper()
	c, err := xapi.New(url, xapi.WithFingerprint(pin))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(context.Background(), simUser, simPassword); err != nil {
		t.Fatal(err)
	}
	return c
}

// countingReader counts the bytes read from an upload's source.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestPoolTransfersFollowRedirects: with only the master's certificate
// pinned, the client exports a VM and a raw disk held on the second host's
// local SR, and imports onto that SR, following XAPI's 302 to the member
// and trusting it through the pool's Certificate records; the upload's
// source is read exactly once.
func TestPoolTransfersFollowRedirects(t *testing.T) {
	sim, urls := startPoolSim(t, 2)
	c := pinnedClient(t, urls[0], sim.Fingerprint(0))
	ctx := context.Background()
	vm := xapi.VMRef(vmNamed(t, sim, "vm-02").Ref)
	disk := disksOf(t, c, vm)[0]
	rec, err := c.VDIRecord(ctx, disk)
	if err != nil {
		t.Fatal(err)
	}
	if string(rec.SR) != sim.LocalSR(1) {
		t.Fatalf("vm-02's disk is on %s, want host 2's local SR %s", rec.SR, sim.LocalSR(1))
	}
	want, _ := diskSum(t, c, disk) // GET /export_raw_vdi through a 302
	path, size := exportToFile(t, c, vm, "zstd")
	for _, known := range []bool{true, false} {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		src := &countingReader{r: f}
		n := int64(-1)
		if known {
			n = size
		}
		newVM, err := c.Import(ctx, src, n, xapi.ImportOptions{SR: xapi.SRRef(sim.LocalSR(1))})
		f.Close()
		if err != nil {
			t.Fatalf("import (size known %v): %v", known, err)
		}
		if src.n.Load() != size {
			t.Fatalf("the upload read %d bytes of its %d-byte source", src.n.Load(), size)
		}
		got := disksOf(t, c, newVM)[0]
		if r, _ := c.VDIRecord(ctx, got); string(r.SR) != sim.LocalSR(1) {
			t.Fatalf("the imported disk is on %s, want host 2's SR", r.SR)
		}
		if sum, _ := diskSum(t, c, got); sum != want {
			t.Fatal("the imported disk differs from the source")
		}
	}
	if n := sim.Requests()["/import"]; n != 4 {
		t.Fatalf("/import got %d requests, want 4 (a redirected head and the upload, twice)", n)
	}
}

// TestPoolRedirectOnlyToMembers: a member whose certificate is not the one
// the pool publishes is refused, and verification is never turned off.
func TestPoolMemberCertificateMustMatch(t *testing.T) {
	sim, urls := startPoolSim(t, 2)
	other, otherURLs := startPoolSim(t, 2) // another pool's hosts, other certificates
	_ = other
	// Host 2 of this pool moves to where the other pool's host 2 listens.
	c := pinnedClient(t, urls[0], sim.Fingerprint(0))
	ctx := context.Background()
	if err := sim.SetHostAddress(1, strings.TrimPrefix(otherURLs[1], "https://")); err != nil {
		t.Fatal(err)
	}
	vm := xapi.VMRef(vmNamed(t, sim, "vm-02").Ref)
	_, err := c.ExportRawVDI(ctx, disksOf(t, c, vm)[0])
	if err == nil || !strings.Contains(err.Error(), "not the one the pool publishes") {
		t.Fatalf("export from a host with another certificate: %v", err)
	}
}

// TestHostIsSlaveFollowed: a client pointed at a member follows
// HOST_IS_SLAVE to the master at login, trusting it by the thumbprint the
// pinned member sends; a master change mid-run is followed on the next call.
func TestHostIsSlaveFollowed(t *testing.T) {
	sim, urls := startPoolSim(t, 2)
	ctx := context.Background()
	c := pinnedClient(t, urls[1], sim.Fingerprint(1))
	if c.URL() != urls[0] {
		t.Fatalf("after login the client talks to %s, want the master %s", c.URL(), urls[0])
	}
	if err := sim.SetMaster(1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.VMs(ctx); err != nil {
		t.Fatalf("a call after the master moved: %v", err)
	}
	if c.URL() != urls[1] {
		t.Fatalf("after the master moved the client talks to %s, want %s", c.URL(), urls[1])
	}
	if err := sim.SetMaster(0); err != nil {
		t.Fatal(err)
	}
	vm := xapi.VMRef(vmNamed(t, sim, "vm-01").Ref)
	if _, n := diskSum(t, c, disksOf(t, c, vm)[0]); n != simDisk {
		t.Fatalf("read %d bytes of a disk after the master moved back", n)
	}
}

func vmNamed(t *testing.T, sim *xapisim.Server, name string) xapisim.VMInfo {
	t.Helper()
	for _, v := range sim.VMs() {
		if v.NameLabel == name {
			return v
		}
	}
	t.Fatalf("no VM %s", name)
	return xapisim.VMInfo{}
}

// TestHostIsSlaveOnOldXapi: an xapi older than 24.1 sends no master
// thumbprint with HOST_IS_SLAVE, so a client pinned to a member cannot
// trust the master it is sent to, and says which host; a per-host pin
// lets it in.
func TestHostIsSlaveOnOldXapi(t *testing.T) {
	sim, err := xapisim.New(xapisim.Options{Hosts: 2, VMs: 1, User: simUser, Password: simPassword,
		DiskSize: simDisk, DataDir: t.TempDir(), XapiVersion: "1.249.26"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	urls, err := sim.StartHosts(0)
	if err != nil {
		t.Fatal(err)
	}
	master := strings.TrimPrefix(urls[0], "https://")
	c, err := xapi.New(urls[1], xapi.WithFingerprint(sim.Fingerprint(1)))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Login(context.Background(), simUser, simPassword)
	if err == nil || !strings.Contains(err.Error(), master) || !strings.Contains(err.Error(), "published certificate") {
		t.Fatalf("login through a member of an old pool with no trust for the master: %v", err)
	}
	c, err = xapi.New(urls[1], xapi.WithFingerprint(sim.Fingerprint(1)), xapi.WithHostFingerprint(master, sim.Fingerprint(0)))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(context.Background(), simUser, simPassword); err != nil || c.URL() != urls[0] {
		t.Fatalf("login with the master pinned: %v, at %s", err, c.URL())
	}
}

// TestImportToUnknownSR: XAPI takes sr_id as a ref unchecked; no host sees
// an unknown one, so /import answers 500 before taking the task, and the
// error says why.
func TestImportToUnknownSR(t *testing.T) {
	sim, urls := startPoolSim(t, 2)
	c := pinnedClient(t, urls[0], sim.Fingerprint(0))
	_, err := c.Import(context.Background(), strings.NewReader("not read"), 8,
		xapi.ImportOptions{SR: "OpaqueRef:00000000-0000-0000-0000-000000000000"})
	if err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "NO_HOSTS_AVAILABLE") {
		t.Fatalf("import to an unknown SR: %v", err)
	}
}

// TestMasterFailover: the master dies and HA makes another host master.
// A client that was talking to the dead master finds the new one through
// the pool's other hosts (the ones it read at login, trusted by the
// certificates the pool publishes), and so does a new client configured at
// the dead host that knows another host by its pin; a call cut on the dead
// master's open connection is not sent again.
func TestMasterFailover(t *testing.T) {
	sim, urls := startPoolSim(t, 3)
	ctx := context.Background()
	c := pinnedClient(t, urls[0], sim.Fingerprint(0))
	if err := sim.SetMaster(2); err != nil {
		t.Fatal(err)
	}
	if err := sim.StopHost(0); err != nil {
		t.Fatal(err)
	}
	// A call on a connection the dead master had open may fail (it may
	// have run, so it is not sent again); the next connects anew.
	if _, err := c.VMs(ctx); xapi.IsCode(err, xapi.CodeHostIsSlave) {
		t.Fatalf("the call cut by the master's death: %v", err)
	}
	if _, err := c.VMs(ctx); err != nil {
		t.Fatalf("a call after the master died: %v", err)
	}
	if c.URL() != urls[2] {
		t.Fatalf("after the master died the client talks to %s, want the new master %s", c.URL(), urls[2])
	}
	vm := xapi.VMRef(vmNamed(t, sim, "vm-02").Ref) // on host 2's local SR: the dead host's is gone with it
	if _, n := diskSum(t, c, disksOf(t, c, vm)[0]); n != simDisk {
		t.Fatalf("read %d bytes of a disk after the failover", n)
	}

	member := strings.TrimPrefix(urls[1], "https://")
	fresh, err := xapi.New(urls[0], xapi.WithFingerprint(sim.Fingerprint(0)),
		xapi.WithHostFingerprint(member, sim.Fingerprint(1)))
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh.Login(ctx, simUser, simPassword); err != nil || fresh.URL() != urls[2] {
		t.Fatalf("login at the dead master with another host pinned: %v, at %s", err, fresh.URL())
	}

	// With no host left, the error is the master's, and the client stays on it.
	for _, i := range []int{1, 2} {
		if err := sim.StopHost(i); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = c.VMs(ctx) // may be cut on an open connection
	_, err = c.VMs(ctx)
	if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(urls[2], "https://")) || c.URL() != urls[2] {
		t.Fatalf("a call when no host of the pool answers: %v, then at %s", err, c.URL())
	}
}

// TestMasterBackAfterAFailoverThatFoundNoHost: the master cannot be reached
// for a while (it reboots; no HA) and the pool's other host cannot be
// talked to either (here it answers with a certificate the pool does not
// publish for it, as a member does whose certificate the client cannot
// verify). The failover gives up on that host and leaves the client on its
// master, so calls go through again once the master is back, instead of
// failing on the member until the process restarts.
func TestMasterBackAfterAFailoverThatFoundNoHost(t *testing.T) {
	sim, urls := startPoolSim(t, 2)
	ctx := context.Background()
	member := httptest.NewUnstartedServer(http.NotFoundHandler()) // listens on 127.0.0.1
	member.Config.ErrorLog = log.New(io.Discard, "", 0)           // the handshakes it fails
	member.StartTLS()
	t.Cleanup(member.Close)
	if err := sim.SetHostAddress(1, strings.TrimPrefix(member.URL, "https://")); err != nil {
		t.Fatal(err)
	}
	c := pinnedClient(t, urls[0], sim.Fingerprint(0))
	if err := sim.StopHost(0); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the first may be cut on an open connection; the second fails over
		if _, err := c.VMs(ctx); err == nil {
			t.Fatal("a call while no host of the pool can be talked to succeeded")
		}
	}
	if err := sim.StartHost(0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.VMs(ctx); err != nil || c.URL() != urls[0] {
		t.Fatalf("a call once the master is back: %v, at %s; want it answered by the master %s", err, c.URL(), urls[0])
	}
}
