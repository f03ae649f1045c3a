package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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

// TestIncrementalThroughServe runs an incremental job through a real `xbr
// serve` (`xbr run --wait`): the first run reads the disks whole, guest
// writes follow, the second run reads only the changed chunks over NBD
// (GET /sim/stats), both restore points equal the VM's disks as they were,
// and `xbr history` names the path taken.
func TestIncrementalThroughServe(t *testing.T) {
	t.Run("dir", func(t *testing.T) {
		dirPath, rem := dirRemote(t, "nfs")
		incrementalThroughServe(t, fmt.Sprintf(`  - {name: nfs, type: dir, path: %s}`, dirPath), nil, rem)
	})
	t.Run("s3", func(t *testing.T) {
		gw, rem := s3Remote(t, "backups")
		incrementalThroughServe(t, fmt.Sprintf(`  - {name: nfs, type: s3, endpoint: %s, bucket: backups, access_key: "${XBR_TEST_S3_KEY}", secret_key: "${XBR_TEST_S3_SECRET}"}`,
			gw.Endpoint), []string{"XBR_TEST_S3_KEY=" + gw.AccessKey, "XBR_TEST_S3_SECRET=" + gw.SecretKey}, rem)
	})
}

func incrementalThroughServe(t *testing.T, remoteYAML string, env []string, rem remote.Remote) {
	p := startPool(t, xapisim.Options{VMs: 1, DiskSize: 4 << 20, NBD: "nbd"})
	cfg := writeFile(t, "xbr.yaml", configYAML(p, remoteYAML, `  - name: incr
    mode: incremental
    pools: [lab]
    remotes: [nfs]
    schedules:
      - {name: hourly, cron: "0 * * * *", retention: 5}`))
	s := startServe(t, append(env, "XBR_TEST_POOL_PASSWORD="+p.pass), "--config", cfg, "--data-dir", t.TempDir(),
		"--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--functions", "incremental")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	nats := s.natsURL(t)
	c, err := xapi.New(p.url)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(ctx, p.user, p.pass); err != nil {
		t.Fatal(err)
	}
	vm := p.userVMs()[0]
	run := func(i int) {
		if out, errOut, code := xbr(t, ctx, nil, "run", "incr", "--wait", "--nats", nats); code != 0 {
			t.Fatalf("run %d: exit %d\n%s\n%s\nserver:\n%s", i, code, out, errOut, s.output())
		}
	}
	run(1)
	first := liveDisks(t, c, vm.UUID)
	disk, err := c.VDIRecord(ctx, xapi.VDIRef(vm.VDIs[0]))
	if err != nil {
		t.Fatal(err)
	}
	guestWrite(t, p.url, disk.UUID, 3<<20, 64<<10)
	before := simCounter(t, p.url, "nbd_read")
	run(2)
	if got := simCounter(t, p.url, "nbd_read") - before; got != 1<<20 {
		t.Errorf("the second run read %d bytes over NBD, want the one changed 1 MiB chunk", got)
	}
	rp, err := repo.Open(ctx, rem, repo.Key{})
	if err != nil {
		t.Fatal(err)
	}
	points, err := rp.List(ctx, vm.UUID)
	if err != nil || len(points) != 2 {
		t.Fatalf("points %v, %v", points, err)
	}
	checkPoint(t, rp, points[0].Point, first)
	checkPoint(t, rp, points[1].Point, liveDisks(t, c, vm.UUID))
	out, errOut, code := xbr(t, ctx, nil, "history", "--nats", nats)
	if code != 0 || !strings.Contains(out, "full scan (first-run)") || !strings.Contains(out, "changed blocks over NBD (cbt)") {
		t.Errorf("xbr history (exit %d) does not name the paths:\n%s\n%s", code, out, errOut)
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
// restore point equal to the disk, every chunk it names present and sound,
// no snapshot left, one changed-block base; the next run reads by changed
// blocks.
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
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(ctx, p.user, p.pass); err != nil {
		t.Fatal(err)
	}
	vm := p.userVMs()[0]
	rp, err := repo.Open(ctx, rem, repo.Key{})
	if err != nil {
		t.Fatal(err)
	}
	points, err := rp.List(ctx, vm.UUID)
	if err != nil || len(points) != 1 {
		t.Fatalf("points after the kill: %v, %v", points, err)
	}
	checkPoint(t, rp, points[0].Point, liveDisks(t, c, vm.UUID))
	if rep, err := rp.Verify(ctx, repo.VerifyOptions{Deep: true}); err != nil || rep.Err() != nil {
		t.Fatalf("verify --deep after the kill: %v %v", err, rep.Err())
	}
	if n, bases := len(p.sim.Snapshots()), cbtBases(p.sim); n != 0 || bases != 1 {
		t.Errorf("after the kill: %d snapshot VMs, %d cbt_metadata bases; want 0 and 1", n, bases)
	}
	disk, err := c.VDIRecord(ctx, xapi.VDIRef(vm.VDIs[0]))
	if err != nil {
		t.Fatal(err)
	}
	guestWrite(t, p.url, disk.UUID, 0, 4096)
	before := simCounter(t, p.url, "nbd_read")
	if out, errOut, code := xbr(t, ctx, nil, "run", "incr", "--wait", "--nats", s2.natsURL(t)); code != 0 {
		t.Fatalf("run after the kill: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := simCounter(t, p.url, "nbd_read") - before; got != 1<<20 {
		t.Errorf("the run after the kill read %d bytes over NBD, want one 1 MiB chunk", got)
	}
	if bases := cbtBases(p.sim); bases != 1 {
		t.Errorf("%d cbt_metadata bases after the next run, want 1", bases)
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
