package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/remote"
	"xbr/shared/testsupport"
	"xbr/shared/xapi/xapisim"
)

// TestFullBackupToDirAndS3 is issue 4's end-to-end case: xbr serve as a real
// process, a job writing to a directory remote and to the S3 gateway at once.
func TestFullBackupToDirAndS3(t *testing.T) {
	p := startPool(t, xapisim.Options{VMs: 3, DiskSize: 6 << 20, DisksPerVM: 2})
	vdisBefore := len(p.sim.Refs("VDI"))
	dirPath, nfs := dirRemote(t, "nfs")
	gw, s3r := s3Remote(t, "backups")
	cfg := writeFile(t, "xbr.yaml", configYAML(p, fmt.Sprintf(`  - {name: nfs, type: dir, path: %s}
  - {name: gateway, type: s3, endpoint: %s, bucket: backups, access_key: "${XBR_TEST_S3_KEY}", secret_key: "${XBR_TEST_S3_SECRET}"}`,
		dirPath, gw.Endpoint), `  - name: nightly
    mode: full
    pools: [lab]
    remotes: [nfs, gateway]
    compression: gzip
    schedules:
      - {name: daily, cron: "0 2 * * *", timezone: Europe/Paris, retention: 3}`))
	env := []string{"XBR_TEST_POOL_PASSWORD=" + p.pass, "XBR_TEST_S3_KEY=" + gw.AccessKey, "XBR_TEST_S3_SECRET=" + gw.SecretKey}
	s := startServe(t, env, "--config", cfg, "--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	out, errOut, code := xbr(t, ctx, nil, "run", "nightly", "--wait", "--nats", s.natsURL(t))
	if code != 0 {
		t.Fatalf("xbr run --wait: exit %d\n%s\n%s\nserver:\n%s", code, out, errOut, s.output())
	}
	if !strings.Contains(out, "success") {
		t.Errorf("run output does not say success:\n%s", out)
	}
	for _, vm := range p.userVMs() {
		want := p.diskDigests(t, vm)
		for _, r := range []remote.Remote{nfs, s3r} {
			checkOneBackup(t, r, vm, want)
		}
	}
	if snaps := p.sim.Snapshots(); len(snaps) != 0 {
		t.Errorf("snapshots left on the pool: %+v", snaps)
	}
	if n := len(p.sim.Refs("VDI")); n != vdisBefore {
		t.Errorf("%d VDIs on the pool after the run, %d before: snapshot disks leaked", n, vdisBefore)
	}
	if strings.Contains(s.output(), gw.SecretKey) || strings.Contains(s.output(), p.pass) {
		t.Error("a secret reached the server's logs")
	}
}

// checkOneBackup asserts r holds exactly one complete backup of vm, in Xen
// Orchestra's layout, whose disks are the source disks.
func checkOneBackup(t *testing.T, r remote.Remote, vm xapisim.VMInfo, want map[string]string) {
	t.Helper()
	ctx := context.Background()
	bs := listBackups(t, r, vm.UUID)
	if len(bs) != 1 {
		t.Fatalf("%s: %d backups of %s, want 1", r.Name(), len(bs), vm.NameLabel)
	}
	id := bs[0].ID
	for _, key := range []string{id.DataKey(), id.MetaKey()} {
		if !strings.HasPrefix(key, "xo-vm-backups/"+vm.UUID+"/") {
			t.Errorf("%s: key %s is not in Xen Orchestra's layout", r.Name(), key)
		}
		if _, err := r.Stat(ctx, key); err != nil {
			t.Errorf("%s: %s: %v", r.Name(), key, err)
		}
	}
	checkXOFields(t, r, id.MetaKey())
	rc, err := r.Open(ctx, id.DataKey())
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, codec := xvaDigests(t, rc)
	if codec != "gzip" {
		t.Errorf("%s: backup codec %s, want gzip", r.Name(), codec)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: disks of %s differ from the source:\n got %v\nwant %v", r.Name(), vm.NameLabel, got, want)
	}
}

func checkXOFields(t *testing.T, r remote.Remote, key string) {
	t.Helper()
	rc, err := r.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var m map[string]any
	if err := json.NewDecoder(rc).Decode(&m); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"jobId", "mode", "scheduleId", "timestamp", "version", "vm", "vmSnapshot", "xva", "size", "xbr"} {
		if _, ok := m[f]; !ok {
			t.Errorf("%s: %s lacks Xen Orchestra's field %q", r.Name(), key, f)
		}
	}
	if m["mode"] != "full" || m["version"] != "2.0.0" || !strings.HasPrefix(fmt.Sprint(m["xva"]), "./") {
		t.Errorf("%s: %s: mode %v version %v xva %v", r.Name(), key, m["mode"], m["version"], m["xva"])
	}
}

// TestExportSurvivesSIGKILL kills xbr serve in the middle of an export and
// restarts it: the VM must end with exactly one complete backup from that run.
func TestExportSurvivesSIGKILL(t *testing.T) {
	p := startPool(t, xapisim.Options{VMs: 1, DiskSize: 48 << 20, Faults: xapisim.Faults{RateLimit: 6 << 20}})
	dirPath, nfs := dirRemote(t, "nfs")
	cfg := writeFile(t, "xbr.yaml", configYAML(p, fmt.Sprintf(`  - {name: nfs, type: dir, path: %s}`, dirPath),
		`  - name: nightly
    pools: [lab]
    remotes: [nfs]
    compression: zstd
    schedules:
      - {name: daily, cron: "0 2 * * *", retention: 3}`))
	env := []string{"XBR_TEST_POOL_PASSWORD=" + p.pass}
	data := t.TempDir()
	args := []string{"--config", cfg, "--data-dir", data, "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0"}
	s := startServe(t, env, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out, errOut, code := xbr(t, ctx, nil, "run", "nightly", "--nats", s.natsURL(t))
	if code != 0 {
		t.Fatalf("xbr run: exit %d: %s %s", code, out, errOut)
	}
	runID := strings.TrimSuffix(strings.Fields(out)[1], ":")
	vm := p.userVMs()[0]

	// Kill it once the export is well under way (a temp file is growing).
	testsupport.Eventually(t, time.Minute, "the export to start writing", func() bool {
		return tempBytes(dirPath) > 4<<20
	})
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	s.kill(t)
	p.sim.SetFaults(xapisim.Faults{})

	s2 := startServe(t, env, args...)
	rc := waitRunCompleted(t, ctx, s2.natsURL(t), runID)
	if rc.Status != events.StatusSuccess {
		t.Fatalf("run %s ended %s: %+v\nserver:\n%s", runID, rc.Status, rc, s2.output())
	}
	bs := listBackups(t, nfs, vm.UUID)
	var fromRun []catalog.Backup
	for _, b := range bs {
		m, err := catalog.ReadMetadata(ctx, nfs, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.Xbr != nil && m.Xbr.RunID == runID {
			fromRun = append(fromRun, b)
		}
	}
	if len(fromRun) != 1 {
		t.Fatalf("%d complete backups from run %s, want exactly 1 (all: %+v)", len(fromRun), runID, bs)
	}
	rcData, err := nfs.Open(ctx, fromRun[0].ID.DataKey())
	if err != nil {
		t.Fatal(err)
	}
	defer rcData.Close()
	if got, _ := xvaDigests(t, rcData); fmt.Sprint(got) != fmt.Sprint(p.diskDigests(t, vm)) {
		t.Errorf("the backup's disks differ from the source")
	}
	testsupport.Eventually(t, time.Minute, "the killed attempt's snapshot to be removed", func() bool {
		return len(p.sim.Snapshots()) == 0
	})
}

// tempBytes is the size of the unfinished uploads under a dir remote.
func tempBytes(root string) int64 {
	var n int64
	_ = filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.HasSuffix(info.Name(), ".tmp") {
			n += info.Size()
		}
		return nil
	})
	return n
}

func waitRunCompleted(t *testing.T, ctx context.Context, url, runID string) events.RunCompleted {
	t.Helper()
	var rc events.RunCompleted
	waitEvent(t, ctx, url, events.TypeRunCompleted, func(ev events.Received) bool {
		p, err := events.PayloadAs[events.RunCompleted](ev)
		rc = p
		return err == nil && p.RunID == runID
	})
	return rc
}

// waitEvent waits for the first event of type ty in the stream that match accepts.
func waitEvent(t *testing.T, ctx context.Context, url string, ty events.Type, match func(events.Received) bool) {
	t.Helper()
	conn, err := bus.Connect(url, bus.ConnectOptions{Name: "e2e"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	subjects, _ := events.NewSubjects("")
	w, err := conn.Watch(ctx, bus.WatchOptions{Subjects: []string{subjects.Filter(ty)}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for {
		r, err := w.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v", ty, err)
		}
		if r.Err == nil && match(r.Event) {
			return
		}
	}
}
