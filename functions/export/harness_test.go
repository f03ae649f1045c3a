package export_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/export"
	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
	"xbr/shared/catalog"
	"xbr/shared/compress"
	"xbr/shared/config"
	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/s3"
	"xbr/shared/remote/s3/s3test"
	"xbr/shared/runs"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
	"xbr/shared/xva"
)

const diskSize = 2 << 20

// e2eScale scales waits for slow machines.
const e2eScale = time.Second

// env is one test's world: NATS, a simulated pool, remotes and the export
// function consuming.
type env struct {
	t       *testing.T
	srv     *natsserver.Server
	conn    *bus.Conn
	sim     *xapisim.Server
	client  *xapi.Client
	cfg     *config.Config
	remotes map[string]remote.Remote
	coord   *runs.Coordinator
	deps    export.Deps
	cancel  context.CancelFunc
	done    chan struct{}
}

type poolMap map[string]*xapi.Client

func (p poolMap) Client(_ context.Context, name string) (*xapi.Client, error) {
	if c, ok := p[name]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("pool %q is not configured", name)
}

type remoteMap map[string]remote.Remote

func (r remoteMap) Get(_ context.Context, name string) (remote.Remote, error) {
	if rm, ok := r[name]; ok {
		return rm, nil
	}
	return nil, fmt.Errorf("remote %q is not configured", name)
}

// newEnv builds the world; jobs is the YAML of the jobs list (pool "lab",
// remote "local" is a dir; "gateway" an S3 remote when withS3).
func newEnv(t *testing.T, vms int, jobs string, withS3 bool) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, remotes: map[string]remote.Remote{}}
	srv, err := natsserver.StartServer(natsserver.ServerConfig{Port: -1, Host: "127.0.0.1", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	e.srv = srv
	e.conn, err = bus.Connect(srv.ClientURL(), bus.ConnectOptions{Name: t.Name()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.conn.Close() })
	if err := e.conn.EnsureStreams(ctx, bus.Topology{}); err != nil {
		t.Fatal(err)
	}
	e.sim, err = xapisim.New(xapisim.Options{VMs: vms, DiskSize: diskSize, DisksPerVM: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.sim.Close() })
	url, err := e.sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.client, err = xapi.New(url)
	if err != nil {
		t.Fatal(err)
	}
	user, pass := e.sim.Credentials()
	if err := e.client.Login(ctx, user, pass); err != nil {
		t.Fatal(err)
	}
	localDir := t.TempDir()
	e.remotes["local"], err = dir.New("local", localDir)
	if err != nil {
		t.Fatal(err)
	}
	smallDir := t.TempDir()
	e.remotes["small"], err = dir.New("small", smallDir)
	if err != nil {
		t.Fatal(err)
	}
	remotesYAML := fmt.Sprintf("  - {name: local, type: dir, path: %q}\n  - {name: small, type: dir, path: %q}\n", localDir, smallDir)
	if withS3 {
		gw := s3test.Start(t)
		gw.NewBucket(t, "backups")
		e.remotes["gateway"], err = s3.New(ctx, s3.Config{Name: "gateway", Endpoint: gw.Endpoint, Bucket: "backups",
			Prefix: "xbr", AccessKey: gw.AccessKey, SecretKey: gw.SecretKey})
		if err != nil {
			t.Fatal(err)
		}
		remotesYAML += fmt.Sprintf("  - {name: gateway, type: s3, endpoint: %q, bucket: backups, access_key: k, secret_key: s}\n", gw.Endpoint)
	}
	doc := fmt.Sprintf("pools: [{name: lab, url: %q, username: %s, password: %s}]\nremotes:\n%sjobs:\n%s", url, user, pass, remotesYAML, jobs)
	e.cfg, err = config.Parse("test.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	e.coord, err = runs.New(ctx, e.conn, runs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.deps = export.Deps{Config: e.cfg, Pools: poolMap{"lab": e.client}, Remotes: remoteMap(e.remotes), Runs: e.coord,
		Publisher: e.conn, Log: testLogger(t), Version: "test", ProgressEvery: 50 * time.Millisecond}
	return e
}

func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("XBR_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// start runs the function's consumers until the test ends.
func (e *env) start() {
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan struct{})
	go func() {
		defer close(e.done)
		if err := export.Consume(ctx, e.conn, events.StreamNames{}, e.deps); err != nil {
			e.t.Errorf("Consume: %v", err)
		}
	}()
	e.t.Cleanup(func() { cancel(); <-e.done })
}

// fire publishes a schedule.due of job and returns its run id.
func (e *env) fire(job, schedule string, at time.Time) string {
	e.t.Helper()
	id := events.DeriveID("schedule.due", job, schedule, at.Format(time.RFC3339))
	e.publish(id, events.ScheduleDue{RunID: id, Job: job, Schedule: schedule, Mode: events.ModeFull, FireTime: at})
	return id
}

func (e *env) publish(id string, p events.Payload) {
	e.t.Helper()
	m, err := events.Subjects{}.Message(events.Meta{ID: id, Source: "/test", Time: time.Now()}, p)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.conn.Publish(context.Background(), m.Subject, m.Event); err != nil {
		e.t.Fatal(err)
	}
}

// stored returns every stored lifecycle event, in stream order.
func (e *env) stored() []events.Received {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w, err := e.conn.Watch(ctx, bus.WatchOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer w.Close()
	var out []events.Received
	for {
		rec, err := w.Next(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		if rec.Err == nil {
			out = append(out, rec.Event)
		}
		if rec.Pending == 0 {
			return out
		}
	}
}

// runCompleted waits for the run.completed of run.
func (e *env) runCompleted(run string) events.RunCompleted {
	e.t.Helper()
	var out events.RunCompleted
	testsupport.Eventually(e.t, 60*time.Second, "run.completed of "+run, func() bool {
		for _, r := range e.stored() {
			if p, ok := r.Payload.(events.RunCompleted); ok && p.RunID == run {
				out = p
				return true
			}
		}
		return false
	})
	return out
}

// payloads returns the stored events of type T.
func payloadsOf[T events.Payload](e *env) []T {
	var out []T
	for _, r := range e.stored() {
		if p, ok := r.Payload.(T); ok {
			out = append(out, p)
		}
	}
	return out
}

// sourceVMs are the simulator's ordinary VMs (not snapshots).
func (e *env) sourceVMs() []xapisim.VMInfo {
	var out []xapisim.VMInfo
	for _, v := range e.sim.VMs() {
		if !v.IsSnapshot && !v.IsTemplate {
			out = append(out, v)
		}
	}
	return out
}

// assertNoSnapshots checks the pool holds no snapshot VM and no snapshot disk.
func (e *env) assertNoSnapshots() {
	e.t.Helper()
	if s := e.sim.Snapshots(); len(s) > 0 {
		e.t.Errorf("leftover snapshots: %+v", s)
	}
	for _, ref := range e.sim.Refs("VDI") {
		rec, err := e.sim.Record("VDI", ref)
		if err != nil {
			e.t.Fatal(err)
		}
		if rec["is_a_snapshot"] == true {
			e.t.Errorf("leftover snapshot disk %s (%v)", ref, rec["name_label"])
		}
	}
}

// assertBackup checks one listed backup: XO's metadata fields, the stored
// bytes' SHA-256 and codec, and disks byte-identical to the source VM's.
func (e *env) assertBackup(r remote.Remote, b catalog.Backup, job, schedule, codec string) {
	e.t.Helper()
	ctx := context.Background()
	m, err := catalog.ReadMetadata(ctx, r, b.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	// jobId and scheduleId are UUIDs, as XO writes them; the names stay in the xbr object.
	jobID := config.DeriveID(config.IDNamespace, job)
	if m.JobID != jobID || m.ScheduleID != config.DeriveID(jobID, schedule) || m.Mode != "full" || m.Version != "2.0.0" ||
		m.XVA != "./"+b.ID.Timestamp()+".xva" || m.SnapshotUUID() == "" || m.VMUUID() != b.VMUUID {
		e.t.Errorf("metadata of %s lacks XO's fields: jobId %q scheduleId %q mode %q version %q xva %q",
			b.ID, m.JobID, m.ScheduleID, m.Mode, m.Version, m.XVA)
	}
	if m.Xbr == nil || m.Xbr.Codec != codec || m.Xbr.RunID == "" || m.Xbr.Job != job || m.Xbr.Schedule != schedule {
		e.t.Fatalf("xbr object of %s: %+v", b.ID, m.Xbr)
	}
	rc, err := r.Open(ctx, b.ID.DataKey())
	if err != nil {
		e.t.Fatal(err)
	}
	defer rc.Close()
	h := sha256.New()
	var head bytes.Buffer
	tee := io.TeeReader(rc, io.MultiWriter(h, &limitedBuffer{b: &head, n: 8}))
	xr, err := xva.NewReader(tee)
	if err != nil {
		e.t.Fatalf("%s: %v", b.ID, err)
	}
	defer xr.Close()
	if got := string(xr.Codec()); got != codec {
		e.t.Errorf("%s: stored codec %s, want %s", b.ID, got, codec)
	}
	e.assertDisks(b, xr)
	if _, err := io.Copy(io.Discard, tee); err != nil {
		e.t.Fatal(err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != m.Xbr.SHA256 {
		e.t.Errorf("%s: sha256 %s, metadata says %s", b.ID, sum, m.Xbr.SHA256)
	}
	e.assertChecksum(r, b, h.Sum(nil))
	if info, err := r.Stat(ctx, b.ID.DataKey()); err != nil || info.Size != m.Size {
		e.t.Errorf("%s: stored size %d (%v), metadata says %d", b.ID, info.Size, err, m.Size)
	}
	if compress.Detect(head.Bytes()) != compress.Codec(codec) {
		e.t.Errorf("%s: magic %x is not %s", b.ID, head.Bytes(), codec)
	}
}

// assertChecksum checks <ts>.xva.checksum in XO's @xen-orchestra/fs format:
// "$5$$" (sha256, which XO's reader takes as it takes its own "$1$$" md5)
// and the lowercase hex SHA-256 of the stored bytes, no newline.
func (e *env) assertChecksum(r remote.Remote, b catalog.Backup, sha256sum []byte) {
	e.t.Helper()
	rc, err := r.Open(context.Background(), b.ID.ChecksumKey())
	if err != nil {
		e.t.Errorf("%s: no checksum file: %v", b.ID, err)
		return
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if want := "$5$$" + hex.EncodeToString(sha256sum); err != nil || string(got) != want {
		e.t.Errorf("%s: checksum file %q (%v), want %q", b.ID, got, err, want)
	}
}

type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// assertDisks compares each disk of the XVA with the source VM's disk of the
// same userdevice, read through /export_raw_vdi.
func (e *env) assertDisks(b catalog.Backup, xr *xva.Reader) {
	e.t.Helper()
	ctx := context.Background()
	byDevice := e.sourceDisks(b.VMUUID)
	devOf := map[string]string{} // export id of a VDI -> userdevice
	for _, o := range xr.Header().Objects {
		if o.Class == "VBD" && o.Snapshot["type"] == "Disk" {
			devOf[fmt.Sprint(o.Snapshot["VDI"])] = fmt.Sprint(o.Snapshot["userdevice"])
		}
	}
	n := 0
	for {
		d, r, err := xr.NextDisk()
		if err == io.EOF {
			break
		}
		if err != nil {
			e.t.Fatalf("%s: %v", b.ID, err)
		}
		src, ok := byDevice[devOf[d.ID]]
		if !ok {
			e.t.Fatalf("%s: disk %s (device %q) has no source disk", b.ID, d.ID, devOf[d.ID])
		}
		tr, err := e.client.ExportRawVDI(ctx, xapi.VDIRef(src))
		if err != nil {
			e.t.Fatal(err)
		}
		same, err := sameBytes(r, tr)
		_ = tr.Close()
		if err != nil || !same {
			e.t.Errorf("%s: disk %s differs from the source disk (%v)", b.ID, d.ID, err)
		}
		n++
	}
	if n != len(byDevice) {
		e.t.Errorf("%s: %d disks in the XVA, the VM has %d", b.ID, n, len(byDevice))
	}
}

func (e *env) sourceDisks(vmUUID string) map[string]string {
	ctx := context.Background()
	out := map[string]string{}
	ref, err := e.client.VMByUUID(ctx, vmUUID)
	if err != nil {
		e.t.Fatal(err)
	}
	rec, err := e.client.VMRecord(ctx, ref)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, vref := range rec.VBDs {
		vbd, err := e.client.VBDRecord(ctx, vref)
		if err != nil {
			e.t.Fatal(err)
		}
		if vbd.Type == "Disk" && !vbd.Empty {
			out[vbd.Userdevice] = string(vbd.VDI)
		}
	}
	return out
}

func sameBytes(a, b io.Reader) (bool, error) {
	ha, hb := sha256.New(), sha256.New()
	na, err := io.Copy(ha, a)
	if err != nil {
		return false, err
	}
	nb, err := io.Copy(hb, b)
	if err != nil {
		return false, err
	}
	return na == nb && bytes.Equal(ha.Sum(nil), hb.Sum(nil)), nil
}

// list returns the backups on r, oldest first, failing on any problem.
func list(t *testing.T, r remote.Remote) []catalog.Backup {
	t.Helper()
	bs, probs, err := catalog.List(context.Background(), r, catalog.Filter{})
	if err != nil || len(probs) > 0 {
		t.Fatalf("list %s: %v %v", r.Name(), err, probs)
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].VMUUID < bs[j].VMUUID })
	return bs
}

// assertNoTemp checks the remote has no incomplete upload left.
func assertNoTemp(t *testing.T, r remote.Remote) {
	t.Helper()
	temps, err := r.(remote.Sweeper).ListTemp(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(temps) > 0 {
		t.Errorf("%s: temp files left: %+v", r.Name(), temps)
	}
}
