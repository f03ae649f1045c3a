package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/remote"
	"xbr/shared/repo"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
	"xbr/shared/xva"
)

// TestIncrementalThroughServe is issue 15's first acceptance item through a
// real `xbr serve` (`xbr run --wait`, `xbr restore --wait`), on a dir remote
// and on versitygw S3: the first run reads the disk whole; scattered 64 KiB
// guest writes and a contiguous run follow; the second run reads over NBD
// (GET /sim/stats) exactly the changed blocks of the chunks at most half
// changed and the whole of the one more than half changed; both
// restore points restore byte-exact into new VMs; `xbr history` names the
// path taken; a third run with retention 2 deletes the oldest point and its
// GC removes exactly the chunks no remaining manifest uses.
func TestIncrementalThroughServe(t *testing.T) {
	t.Run("dir", func(t *testing.T) {
		dirPath, rem := dirRemote(t, "nfs")
		incrementalThroughServe(t, fmt.Sprintf(`  - {name: nfs, type: dir, path: %s}`, dirPath), nil, rem, dirPath)
	})
	t.Run("s3", func(t *testing.T) {
		gw, rem := s3Remote(t, "backups")
		incrementalThroughServe(t, fmt.Sprintf(`  - {name: nfs, type: s3, endpoint: %s, bucket: backups, access_key: "${XBR_TEST_S3_KEY}", secret_key: "${XBR_TEST_S3_SECRET}"}`,
			gw.Endpoint), []string{"XBR_TEST_S3_KEY=" + gw.AccessKey, "XBR_TEST_S3_SECRET=" + gw.SecretKey}, rem, filepath.Join(gw.Root, "backups"))
	})
}

// incrDiskSize is the disk of these tests: eight 1 MiB chunks and a short
// 256 KiB ninth.
const incrDiskSize = 8<<20 + 256<<10

func incrementalThroughServe(t *testing.T, remoteYAML string, env []string, rem remote.Remote, root string) {
	e := startIncremental(t, remoteYAML, env, "retention: 2", "incremental,restore,prune")
	e.run(t, 1)
	first := liveDisks(t, e.c, e.vm.UUID)
	want := scatteredWrites(t, e.p.url, e.disk)
	before := simCounter(t, e.p.url, "nbd_read")
	e.run(t, 2)
	if got := simCounter(t, e.p.url, "nbd_read") - before; got != want {
		t.Errorf("the second run read %d bytes over NBD, want %d: the changed blocks, one chunk whole", got, want)
	}
	second := liveDisks(t, e.c, e.vm.UUID)
	points := e.points(t, rem, 2)
	checkPoint(t, e.repo(t, rem), points[0], first)
	checkPoint(t, e.repo(t, rem), points[1], second)
	e.restoreEquals(t, rem, points[0], first)
	e.restoreEquals(t, rem, points[1], second)
	out, errOut, code := xbr(t, e.ctx, nil, "history", "--nats", e.nats)
	if code != 0 || !strings.Contains(out, "full scan (first-run)") || !strings.Contains(out, "changed blocks over NBD (cbt)") ||
		!strings.Contains(out, "4 patched over their base") {
		t.Errorf("xbr history (exit %d) does not name the paths and the 4 chunks patched:\n%s\n%s", code, out, errOut)
	}
	if !remoteHolds(t, rem, writtenBytes(t, e, 1<<20+128<<10)) {
		t.Error("the plain repository does not hold the written bytes: the plaintext search of the encrypted test proves nothing")
	}
	e.retentionAndGC(t, rem, root, points)
}

// incrEnv is a simulated pool with one VM, an `xbr serve` running an
// incremental job "incr" on remote "nfs", and a client of the pool.
type incrEnv struct {
	ctx  context.Context
	p    *pool
	s    *server
	nats string
	c    *xapi.Client
	vm   xapisim.VMInfo
	disk string // the VM's disk's VDI uuid
	cfg  string
	key  repo.Key
}

// startIncremental starts the pool and `xbr serve --functions fns` with the
// job's schedule given retention (e.g. "retention: 2").
func startIncremental(t *testing.T, remoteYAML string, env []string, retention, fns string) *incrEnv {
	t.Helper()
	p := startPool(t, xapisim.Options{VMs: 1, DiskSize: incrDiskSize, NBD: "nbd"})
	// only the VM: the VMs restored from its points are not the job's
	cfg := writeFile(t, "xbr.yaml", configYAML(p, remoteYAML, `  - name: incr
    mode: incremental
    pools: [lab]
    vms: {uuids: [`+p.userVMs()[0].UUID+`]}
    remotes: [nfs]
    schedules:
      - {name: hourly, cron: "0 * * * *", `+retention+`}`))
	s := startServe(t, append(env, "XBR_TEST_POOL_PASSWORD="+p.pass), "--config", cfg, "--data-dir", t.TempDir(),
		"--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--functions", fns)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	c, err := xapi.New(p.url)
	rsMust(t, err)
	rsMust(t, c.Login(ctx, p.user, p.pass))
	e := &incrEnv{ctx: ctx, p: p, s: s, nats: s.natsURL(t), c: c, vm: p.userVMs()[0], cfg: cfg}
	disk, err := c.VDIRecord(ctx, xapi.VDIRef(e.vm.VDIs[0]))
	rsMust(t, err)
	e.disk = disk.UUID
	return e
}

// run runs the job once with `xbr run incr --wait`.
func (e *incrEnv) run(t *testing.T, i int) {
	t.Helper()
	if out, errOut, code := xbr(t, e.ctx, nil, "run", "incr", "--wait", "--nats", e.nats); code != 0 {
		t.Fatalf("run %d: exit %d\n%s\n%s\nserver:\n%s", i, code, out, errOut, e.s.output())
	}
}

// repo opens the repository of rem with the environment's key.
func (e *incrEnv) repo(t *testing.T, rem remote.Remote) *repo.Repo {
	t.Helper()
	rp, err := repo.Open(e.ctx, rem, e.key)
	rsMust(t, err)
	return rp
}

// points lists the VM's restore points, oldest first, and wants n of them.
func (e *incrEnv) points(t *testing.T, rem remote.Remote, n int) []repo.Point {
	t.Helper()
	infos, err := e.repo(t, rem).List(e.ctx, e.vm.UUID)
	if err != nil || len(infos) != n {
		t.Fatalf("restore points %v, %v; want %d", infos, err, n)
	}
	out := make([]repo.Point, 0, n)
	for _, in := range infos {
		out = append(out, in.Point)
	}
	return out
}

// scatteredWrites writes as a guest into the disk: scattered 64 KiB blocks
// (two in chunk 1, one in chunk 4, one in the short last chunk 8) and a
// contiguous 1 MiB run over the last 768 KiB of chunk 5 and the first
// 256 KiB of chunk 6. It returns what a run by changed blocks must read
// from the host: the changed blocks of the chunks at most half changed (the
// rest comes from the base point), and chunk 5 whole.
func scatteredWrites(t *testing.T, url, vdi string) int64 {
	t.Helper()
	for _, w := range [][2]int64{{1<<20 + 128<<10, 64 << 10}, {1<<20 + 640<<10, 64 << 10}, {4 << 20, 64 << 10},
		{8<<20 + 64<<10, 64 << 10}, {5<<20 + 256<<10, 1 << 20}} {
		guestWrite(t, url, vdi, w[0], w[1])
	}
	return 4*64<<10 + 1<<20 + 256<<10 // four blocks, chunk 5, chunk 6's 256 KiB
}

// restoreEquals restores point p with `xbr restore --wait` and checks that
// the new VM's disk, read through /export_raw_vdi, is want's.
func (e *incrEnv) restoreEquals(t *testing.T, rem remote.Remote, p repo.Point, want map[string][]byte) {
	t.Helper()
	id := "nfs:xbr-repo/" + p.String()
	out, errOut, code := xbr(t, e.ctx, nil, "restore", id, "--wait", "--nats", e.nats)
	if code != 0 || !strings.Contains(out, "completed: VM") {
		t.Fatalf("xbr restore %s --wait: exit %d\n%s\n%s\nserver:\n%s", id, code, out, errOut, e.s.output())
	}
	// the name is the snapshot's, "[XO Backup incr] vm-01", and the point's time
	name := " (" + p.Time.UTC().Format("20060102T150405Z") + ")"
	var restored *xapisim.VMInfo
	for _, vm := range e.p.sim.VMs() {
		if strings.HasSuffix(vm.NameLabel, name) {
			restored = &vm
		}
	}
	if restored == nil || len(restored.VDIs) != 1 {
		t.Fatalf("no VM %q with one disk after restoring %s: %+v\n%s", name, id, e.p.sim.VMs(), out)
	}
	got := liveDisks(t, e.c, restored.UUID)
	if len(got) != 1 {
		t.Fatalf("restored VM %s has %d disks", name, len(got))
	}
	for _, b := range got {
		if !bytes.Equal(b, want[e.disk]) {
			t.Errorf("the VM restored from %s differs from the disk at that point", id)
		}
	}
}

// liveDisks reads the VM's disks now, by source VDI uuid.
func liveDisks(t *testing.T, c *xapi.Client, vmUUID string) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	ref, err := c.VMByUUID(ctx, vmUUID)
	if err != nil {
		t.Fatal(err)
	}
	disks, err := c.VMDisks(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, d := range disks {
		rec, err := c.VDIRecord(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := c.ExportRawVDI(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		_ = tr.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[rec.UUID] = b
	}
	return out
}

// checkPoint compares each disk of point p, read back verified, with want
// (by the source VDI its records name).
func checkPoint(t *testing.T, rp *repo.Repo, p repo.Point, want map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	m, err := rp.Manifest(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := xva.DecodeRepoRecords(m.Records)
	if err != nil || len(recs.Disks) != len(want) {
		t.Fatalf("point %s records: %v (%d disks, want %d)", p, err, len(recs.Disks), len(want))
	}
	for i, d := range recs.Disks {
		r, err := rp.OpenDisk(ctx, p, i)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		_ = r.Close()
		if err != nil || !bytes.Equal(got, want[d.SourceVDI]) {
			t.Errorf("point %s disk %s differs from the VM's disk at that time (%v)", p, d.Name, err)
		}
	}
}

func guestWrite(t *testing.T, url, vdiUUID string, offset, length int64) {
	t.Helper()
	resp, err := http.Post(fmt.Sprintf("%s/sim/vdi/%s/write?offset=%d&length=%d&seed=1", url, vdiUUID, offset, length), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("guest write: %s", resp.Status)
	}
}

func simCounter(t *testing.T, url, kind string) int64 {
	t.Helper()
	resp, err := http.Get(url + "/sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Bytes map[string]int64 `json:"bytes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.Bytes[kind]
}

// TestIncrementalSurvivesSIGKILL kills xbr serve while the first run reads
// a disk and restarts it: the redelivered request ends the run with one
// restore point equal to the disk, every chunk it names present and sound
// (`xbr verify --deep` clean), no snapshot left, one changed-block base; the
// next run reads by changed blocks. (SIGKILL during a GC and during a mirror:
// repo_kill_test.go.)
func TestIncrementalSurvivesSIGKILL(t *testing.T) {
	p := startPool(t, xapisim.Options{VMs: 1, DiskSize: 48 << 20, NBD: "nbd", Faults: xapisim.Faults{RateLimit: 6 << 20}})
	dirPath, rem := dirRemote(t, "nfs")
	cfg := writeFile(t, "xbr.yaml", configYAML(p, fmt.Sprintf(`  - {name: nfs, type: dir, path: %s}`, dirPath),
		`  - name: incr
    mode: incremental
    pools: [lab]
    remotes: [nfs]
    schedules:
      - {name: hourly, cron: "0 * * * *", retention: 5}`))
	env := []string{"XBR_TEST_POOL_PASSWORD=" + p.pass}
	args := []string{"--config", cfg, "--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0",
		"--functions", "incremental"}
	s := startServe(t, env, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out, errOut, code := xbr(t, ctx, nil, "run", "incr", "--nats", s.natsURL(t))
	if code != 0 {
		t.Fatalf("xbr run: exit %d: %s %s", code, out, errOut)
	}
	runID := strings.TrimSuffix(strings.Fields(out)[1], ":")
	testsupport.Eventually(t, time.Minute, "the disk read to be under way", func() bool {
		return simCounter(t, p.url, "export_raw_vdi") > 4<<20
	})
	s.kill(t)
	p.sim.SetFaults(xapisim.Faults{})
	s2 := startServe(t, env, args...)
	if rc := waitRunCompleted(t, ctx, s2.natsURL(t), runID); rc.Status != events.StatusSuccess {
		t.Fatalf("run %s ended %s: %+v\nserver:\n%s", runID, rc.Status, rc, s2.output())
	}
	c, err := xapi.New(p.url)
	rsMust(t, err)
	rsMust(t, c.Login(ctx, p.user, p.pass))
	vm := p.userVMs()[0]
	rp, err := repo.Open(ctx, rem, repo.Key{})
	rsMust(t, err)
	points, err := rp.List(ctx, vm.UUID)
	if err != nil || len(points) != 1 {
		t.Fatalf("points after the kill: %v, %v", points, err)
	}
	checkPoint(t, rp, points[0].Point, liveDisks(t, c, vm.UUID))
	verifiedClean(t, ctx, rp, env, cfg, s2.natsURL(t))
	if n, bases := len(p.sim.Snapshots()), cbtBases(p.sim); n != 0 || bases != 1 {
		t.Errorf("after the kill: %d snapshot VMs, %d cbt_metadata bases; want 0 and 1", n, bases)
	}
	disk, err := c.VDIRecord(ctx, xapi.VDIRef(vm.VDIs[0]))
	rsMust(t, err)
	guestWrite(t, p.url, disk.UUID, 0, 4096)
	before := simCounter(t, p.url, "nbd_read")
	if out, errOut, code := xbr(t, ctx, nil, "run", "incr", "--wait", "--nats", s2.natsURL(t)); code != 0 {
		t.Fatalf("run after the kill: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := simCounter(t, p.url, "nbd_read") - before; got != 64<<10 {
		t.Errorf("the run after the kill read %d bytes over NBD, want one 64 KiB block", got)
	}
	if bases := cbtBases(p.sim); bases != 1 {
		t.Errorf("%d cbt_metadata bases after the next run, want 1", bases)
	}
}

// verifiedClean checks, through the library and through `xbr verify
// --remote nfs --deep`, that every chunk the one restore point of rp names
// is present and sound.
func verifiedClean(t *testing.T, ctx context.Context, rp *repo.Repo, env []string, cfg, nats string) {
	t.Helper()
	if rep, err := rp.Verify(ctx, repo.VerifyOptions{Deep: true}); err != nil || rep.Err() != nil {
		t.Fatalf("verify --deep after the kill: %v %v", err, rep.Err())
	}
	out, errOut, code := xbr(t, ctx, env, "verify", "--remote", "nfs", "--deep", "--config", cfg, "--nats", nats)
	if code != 0 || !strings.Contains(out, "1 verified, 0 failed") {
		t.Fatalf("xbr verify --remote nfs --deep after the kill: exit %d\n%s\n%s", code, out, errOut)
	}
}

// cbtBases counts the pool's cbt_metadata VDIs.
func cbtBases(sim *xapisim.Server) int {
	n := 0
	for _, ref := range sim.Refs("VDI") {
		if rec, err := sim.Record("VDI", ref); err == nil && rec["type"] == "cbt_metadata" {
			n++
		}
	}
	return n
}
