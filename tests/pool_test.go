package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/functions/replicate"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// hostPool is a simulated pool of several hosts, each served over HTTPS
// with its own self-signed certificate.
type hostPool struct {
	pool
	urls []string
}

func startHostPool(t *testing.T, name string, hosts int, o xapisim.Options) *hostPool {
	t.Helper()
	o.Hosts, o.PoolName, o.DataDir = hosts, name, t.TempDir()
	sim, err := xapisim.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	urls, err := sim.StartHosts(0)
	if err != nil {
		t.Fatal(err)
	}
	user, pass := sim.Credentials()
	return &hostPool{pool: pool{sim: sim, url: urls[0], user: user, pass: pass}, urls: urls}
}

// srUUID is the uuid of host i's local SR.
func (p *hostPool) srUUID(t *testing.T, i int) string {
	t.Helper()
	rec, err := p.sim.Record("SR", p.sim.LocalSR(i))
	if err != nil {
		t.Fatal(err)
	}
	return rec["uuid"].(string)
}

// client logs in to the pool's master, pinning its certificate.
func (p *hostPool) client(t *testing.T) *xapi.Client {
	t.Helper()
	c, err := xapi.New(p.urls[0], xapi.WithFingerprint(p.sim.Fingerprint(0)))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(context.Background(), p.user, p.pass); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRealPoolThroughServe is issue 13's pool acceptance: xbr serve as a
// real process, pools of two hosts over HTTPS with a certificate per host
// and only each master's pinned in the config, VMs on the second host's
// local SR. Backups, a restore onto the second host's SR, rolling
// snapshots and replication to the standby pool's second host all pass,
// and a backup run survives a master change in its middle.
func TestRealPoolThroughServe(t *testing.T) {
	lab := startHostPool(t, "lab", 2, xapisim.Options{VMs: 3, DiskSize: 4 << 20})
	standby := startHostPool(t, "standby", 2, xapisim.Options{VMs: 0})
	var onHost2, onHost1, runningOnHost2 xapisim.VMInfo
	for _, vm := range lab.userVMs() {
		switch vm.NameLabel {
		case "vm-01":
			onHost1 = vm // running
		case "vm-02":
			onHost2 = vm // halted
		case "vm-03":
			runningOnHost2 = vm
		}
	}
	if runningOnHost2.PowerState != "Running" || onHost2.PowerState != "Halted" {
		t.Fatalf("vm-02 is %s and vm-03 %s", onHost2.PowerState, runningOnHost2.PowerState)
	}
	if rec, _ := lab.sim.Record("VDI", onHost2.VDIs[0]); rec["SR"] != lab.sim.LocalSR(1) {
		t.Fatalf("vm-02's disk is on %v, want host 2's local SR", rec["SR"])
	}
	remoteDir := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "xbr.yaml")
	doc := fmt.Sprintf(`pools:
  - {name: lab, url: %q, username: root, password: "${XBR_TEST_LAB_PASSWORD}", tls_fingerprint: %s}
  - {name: standby, url: %q, username: root, password: "${XBR_TEST_STANDBY_PASSWORD}", tls_fingerprint: %s}
remotes:
  - {name: nfs, type: dir, path: %s}
jobs:
  - name: nightly
    mode: full
    pools: [lab]
    vms: {uuids: [%s, %s, %s]}
    remotes: [nfs]
    compression: zstd
    schedules:
      - {name: daily, cron: "0 2 * * *", timezone: UTC, retention: 2}
  - name: rolling
    mode: snapshot
    pools: [lab]
    vms: {uuids: [%s]}
    schedules:
      - {name: hourly, cron: "0 * * * *", timezone: UTC, snapshot_retention: 2}
  - name: dr
    mode: replicate
    pools: [lab]
    vms: {uuids: [%s]}
    target: {pool: standby, sr: %s}
    schedules:
      - {name: hourly, cron: "0 * * * *", timezone: UTC, copy_retention: 1}
`, lab.urls[0], lab.sim.Fingerprint(0), standby.urls[0], standby.sim.Fingerprint(0), remoteDir,
		onHost2.UUID, onHost1.UUID, runningOnHost2.UUID, onHost2.UUID, onHost2.UUID, standby.srUUID(t, 1))
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"XBR_TEST_LAB_PASSWORD=" + lab.pass, "XBR_TEST_STANDBY_PASSWORD=" + standby.pass}
	s := startServe(t, env, "--config", cfg, "--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	nats := s.natsURL(t)
	run := func(args ...string) {
		t.Helper()
		if out, errOut, code := xbr(t, ctx, nil, append(args, "--nats", nats)...); code != 0 {
			t.Fatalf("xbr %s: exit %d\n%s\n%s\nserver:\n%s", strings.Join(args, " "), code, out, errOut, s.output())
		}
	}
	redirects := lab.sim.Requests()

	// Full backups: vm-02's export is redirected to host 2.
	run("run", "nightly", "--wait")
	want := lab.diskDigests(t, onHost2)
	checkPoolBackups(t, remoteDir, onHost2, want, 1)
	checkPoolBackups(t, remoteDir, runningOnHost2, nil, 1)
	if after := lab.sim.Requests()["/export"]; after-redirects["/export"] != 5 {
		t.Fatalf("/export was asked %d times for three VMs, want 5: two redirected to host 2", after-redirects["/export"])
	}

	// A restore onto host 2's local SR: the upload is redirected there.
	out, _, _ := xbr(t, ctx, nil, "backups", "ls", "--json", "--vm", onHost2.UUID, "--nats", nats)
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 {
		t.Fatalf("backups ls --json: %v\n%s", err, out)
	}
	imports := lab.sim.Requests()["/import"]
	run("restore", list[0]["id"].(string), "--pool", "lab", "--sr", lab.srUUID(t, 1), "--wait")
	if n := lab.sim.Requests()["/import"] - imports; n != 2 {
		t.Fatalf("one restore made %d /import requests, want 2 (the head redirected to host 2, then the upload)", n)
	}
	restored := findVM(t, lab, func(v xapisim.VMInfo) bool { return strings.HasPrefix(v.NameLabel, "vm-02 (") })
	if rec, _ := lab.sim.Record("VDI", restored.VDIs[0]); rec["SR"] != lab.sim.LocalSR(1) {
		t.Fatalf("the restored disk is on %v, want host 2's SR", rec["SR"])
	}
	if got := lab.diskDigests(t, restored); fmt.Sprint(values(got)) != fmt.Sprint(values(want)) {
		t.Fatalf("restored disks %v, source %v", got, want)
	}

	// Rolling snapshots of the VM on host 2 keep their depth.
	for range 3 {
		run("run", "rolling", "--wait")
	}
	// prune runs after the run's last snapshot completed
	testsupport.Eventually(t, time.Minute, "2 rolling snapshots of vm-02", func() bool { return countSnapshotsOf(lab, onHost2.Ref) == 2 })

	// Replication to the standby pool's second host.
	run("run", "dr", "--wait")
	cs, err := replicate.ListCopies(ctx, standby.client(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].SR != standby.srUUID(t, 1) {
		t.Fatalf("standby copies %+v, want one on host 2's SR %s", cs, standby.srUUID(t, 1))
	}
	copyVM, err := standby.sim.VM(string(cs[0].Ref))
	if err != nil {
		t.Fatal(err)
	}
	if got := standby.diskDigests(t, copyVM); fmt.Sprint(values(got)) != fmt.Sprint(values(want)) {
		t.Fatalf("replicated disks %v, source %v", got, want)
	}

	// The master moves to host 2 in the middle of a backup run, while its
	// exports stream (slowed to 1 MiB/s: 4 s for each 4 MiB disk).
	lab.sim.SetFaults(xapisim.Faults{RateLimit: 1 << 20})
	before := lab.sim.Requests()["/export"]
	done := make(chan struct{})
	go func() {
		defer close(done)
		run("run", "nightly", "--wait")
	}()
	testsupport.Eventually(t, time.Minute, "exports streaming", func() bool { return lab.sim.Requests()["/export"]-before >= 3 })
	if err := lab.sim.SetMaster(1); err != nil {
		t.Fatal(err)
	}
	if n := pendingTasks(t, lab); n == 0 {
		t.Fatal("no transfer was in flight when the master moved")
	}
	<-done
	lab.sim.SetFaults(xapisim.Faults{})
	if !strings.Contains(s.output(), "the pool master moved") {
		t.Fatalf("the client never followed HOST_IS_SLAVE:\n%s", s.output())
	}
	checkPoolBackups(t, remoteDir, onHost2, want, 2)
	checkPoolBackups(t, remoteDir, onHost1, nil, 2)
	checkPoolBackups(t, remoteDir, runningOnHost2, nil, 2)
	testsupport.Eventually(t, time.Minute, "no backup snapshot left", func() bool {
		return countSnapshotsOf(lab, onHost1.Ref) == 0 && countSnapshotsOf(lab, runningOnHost2.Ref) == 0 &&
			len(lab.sim.Snapshots()) == 2
	})
}

// checkPoolBackups checks that vm has n committed backups in the directory
// remote and, when want is given, that the newest holds those disks.
func checkPoolBackups(t *testing.T, dir string, vm xapisim.VMInfo, want map[string]string, n int) {
	t.Helper()
	metas, xvas := listBackupFiles(t, dir, vm.UUID)
	if len(metas) != n || len(xvas) != n {
		t.Fatalf("vm %s: %d metadata and %d XVA files, want %d", vm.NameLabel, len(metas), len(xvas), n)
	}
	if want == nil {
		return
	}
	f, err := os.Open(filepath.Join(dir, "xo-vm-backups", vm.UUID, xvas[len(xvas)-1]))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, _ := xvaDigests(t, f)
	if fmt.Sprint(values(got)) != fmt.Sprint(values(want)) {
		t.Fatalf("vm %s: backed-up disks %v, source %v", vm.NameLabel, got, want)
	}
}

// listBackupFiles returns the sorted .json and .xva names of a VM folder.
func listBackupFiles(t *testing.T, dir, vm string) (metas, xvas []string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "xo-vm-backups", vm))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch name := e.Name(); {
		case strings.HasSuffix(name, ".json") && name != "cache.json":
			metas = append(metas, name)
		case strings.HasSuffix(name, ".xva"):
			xvas = append(xvas, name)
		}
	}
	return metas, xvas
}

func findVM(t *testing.T, p *hostPool, match func(xapisim.VMInfo) bool) xapisim.VMInfo {
	t.Helper()
	for _, v := range p.sim.VMs() {
		if match(v) {
			return v
		}
	}
	t.Fatal("no such VM in the pool")
	return xapisim.VMInfo{}
}

func countSnapshotsOf(p *hostPool, vm string) int {
	n := 0
	for _, s := range p.sim.Snapshots() {
		if s.SnapshotOf == vm {
			n++
		}
	}
	return n
}

// values lists a digest map's values, sorted: disk names differ between a
// VM, its snapshot and its copies.
func values(m map[string]string) []string {
	return slices.Sorted(maps.Values(m))
}

// pendingTasks counts the pool's tasks still pending.
func pendingTasks(t *testing.T, p *hostPool) int {
	t.Helper()
	n := 0
	for _, ref := range p.sim.Refs("task") {
		if rec, err := p.sim.Record("task", ref); err == nil && rec["status"] == "pending" {
			n++
		}
	}
	return n
}
