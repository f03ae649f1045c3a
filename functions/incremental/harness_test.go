package incremental_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/incremental"
	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/s3"
	"xbr/shared/remote/s3/s3test"
	"xbr/shared/repo"
	"xbr/shared/repoimage"
	"xbr/shared/runs"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
	"xbr/shared/xva"
)

const (
	diskSize  = 4 << 20
	chunkSize = 1 << 20
)

// env is one test's world: embedded NATS, a simulated pool with NBD (or
// not), one remote (a directory, or versitygw S3) and the function.
type env struct {
	t      *testing.T
	conn   *bus.Conn
	sim    *xapisim.Server
	url    string
	client *xapi.Client
	cfg    *config.Config
	repos  *fn.Repos
	rems   *fn.Remotes
	deps   incremental.Deps
	fires  int
}

type poolMap map[string]*xapi.Client

func (p poolMap) Names() []string { return slices.Sorted(maps.Keys(p)) }

func (p poolMap) Client(_ context.Context, name string) (*xapi.Client, error) {
	if c, ok := p[name]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("pool %q is not configured", name)
}

// newEnv starts the world; nbdPurpose is the pool network's ("" none), cbt
// the job's option, s3 puts the remote on versitygw.
func newEnv(t *testing.T, nbdPurpose, cbt string, withS3 bool) *env {
	t.Helper()
	return newEnvKey(t, nbdPurpose, cbt, withS3, "")
}

// newEnvKey is newEnv with the remote's repository encrypted by keyFile
// ("" for none).
func newEnvKey(t *testing.T, nbdPurpose, cbt string, withS3 bool, keyFile string, tune ...func(*incremental.Deps)) *env {
	t.Helper()
	return newEnvJob(t, nbdPurpose, cbt, withS3, keyFile, 1, "", tune...)
}

// newEnvJob is newEnvKey with vms VMs and more job settings (YAML lines
// indented by four spaces).
func newEnvJob(t *testing.T, nbdPurpose, cbt string, withS3 bool, keyFile string, vms int, more string,
	tune ...func(*incremental.Deps)) *env {
	t.Helper()
	return newEnvPool(t, nbdPurpose, cbt, withS3, keyFile, xapisim.Options{VMs: vms}, more, tune...)
}

// newEnvPool is newEnvJob with the simulated pool's options (VMs of
// diskSize-byte disks, two each, unless pool says otherwise).
func newEnvPool(t *testing.T, nbdPurpose, cbt string, withS3 bool, keyFile string, pool xapisim.Options, more string,
	tune ...func(*incremental.Deps)) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t}
	srv, err := natsserver.StartServer(natsserver.ServerConfig{Port: -1, Host: "127.0.0.1", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	e.conn, err = bus.Connect(srv.ClientURL(), bus.ConnectOptions{Name: t.Name()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.conn.Close() })
	if err := e.conn.EnsureStreams(ctx, bus.Topology{}); err != nil {
		t.Fatal(err)
	}
	e.startSim(nbdPurpose, pool)
	remoteYAML := fmt.Sprintf("  - {name: repo, type: dir, path: %q%s}\n", t.TempDir(), keyYAML(keyFile))
	if withS3 {
		gw := s3test.Start(t)
		gw.NewBucket(t, "backups")
		remoteYAML = fmt.Sprintf("  - {name: repo, type: s3, endpoint: %q, bucket: backups, prefix: xbr, access_key: %s, secret_key: %s%s}\n",
			gw.Endpoint, gw.AccessKey, gw.SecretKey, keyYAML(keyFile))
	}
	user, pass := e.sim.Credentials()
	doc := fmt.Sprintf(`pools: [{name: lab, url: %q, username: %s, password: %s}]
remotes:
%sjobs:
  - name: incr
    mode: incremental
    cbt: %s
    pools: [lab]
    remotes: [repo]
%s    schedules: [{name: nightly, cron: "0 1 * * *", retention: 7}]
`, e.url, user, pass, remoteYAML, cbt, more)
	e.cfg, err = config.Parse("test.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	e.rems = fn.NewRemotes(e.cfg.Remotes, openRemote)
	e.repos = fn.NewRepos(e.cfg.Remotes, e.rems)
	coord, err := runs.New(ctx, e.conn, runs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.deps = incremental.Deps{Config: e.cfg, Pools: poolMap{"lab": e.client}, Repos: e.repos, Runs: coord,
		Publisher: e.conn, Log: testLogger(), ProgressEvery: 50 * time.Millisecond}
	for _, f := range tune {
		f(&e.deps)
	}
	e.start()
	return e
}

func keyYAML(keyFile string) string {
	if keyFile == "" {
		return ""
	}
	return fmt.Sprintf(", encryption_key_file: %q", keyFile)
}

func (e *env) startSim(nbdPurpose string, pool xapisim.Options) {
	t := e.t
	var err error
	pool.DiskSize = cmp.Or(pool.DiskSize, diskSize)
	pool.DisksPerVM = cmp.Or(pool.DisksPerVM, 2)
	pool.NBD, pool.DataDir = nbdPurpose, t.TempDir()
	e.sim, err = xapisim.New(pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.sim.Close() })
	if e.url, err = e.sim.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if e.client, err = xapi.New(e.url); err != nil {
		t.Fatal(err)
	}
	user, pass := e.sim.Credentials()
	if err := e.client.Login(context.Background(), user, pass); err != nil {
		t.Fatal(err)
	}
}

// openRemote opens a test remote of either kind.
// wrapRemote, when set, wraps each dir remote the functions open (a test's
// injected fault); tests that set it do not run in parallel.
var wrapRemote func(remote.Remote) remote.Remote

func openRemote(ctx context.Context, c config.Remote) (remote.Remote, error) {
	if c.Type == config.RemoteDir {
		r, err := dir.New(c.Name, c.Path)
		if err == nil && wrapRemote != nil {
			return wrapRemote(r), nil
		}
		return r, err
	}
	return s3.New(ctx, s3.Config{Name: c.Name, Endpoint: c.Endpoint, Bucket: c.Bucket, Prefix: c.Prefix,
		AccessKey: c.AccessKey.Reveal(), SecretKey: c.SecretKey.Reveal()})
}

func testLogger() *slog.Logger {
	if os.Getenv("XBR_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// start runs the function's consumers until the test ends.
func (e *env) start() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := incremental.Consume(ctx, e.conn, events.StreamNames{}, e.deps); err != nil {
			e.t.Errorf("Consume: %v", err)
		}
	}()
	e.t.Cleanup(func() { cancel(); <-done })
}

// run fires the job, waits for its run.completed and returns the VM's
// incremental.completed.
func (e *env) run() events.IncrementalCompleted {
	e.t.Helper()
	id, done := e.fire()
	if done.Status != events.StatusSuccess {
		e.t.Fatalf("run %d: %+v", e.fires, done)
	}
	for _, r := range e.stored() {
		if p, ok := r.Payload.(events.IncrementalCompleted); ok && p.RunID == id {
			return p
		}
	}
	e.t.Fatalf("run %d: no incremental.completed", e.fires)
	return events.IncrementalCompleted{}
}

// fire fires the job and waits for its run.completed.
func (e *env) fire() (string, events.RunCompleted) {
	e.t.Helper()
	e.fires++
	at := time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC).Add(time.Duration(e.fires) * time.Hour)
	id := events.DeriveID("schedule.due", "incr", "nightly", at.Format(time.RFC3339))
	e.publish(id, events.ScheduleDue{RunID: id, Job: "incr", Schedule: "nightly", Mode: events.ModeIncremental, FireTime: at})
	var done events.RunCompleted
	testsupport.Eventually(e.t, 60*time.Second, "run.completed of "+id, func() bool {
		for _, r := range e.stored() {
			if p, ok := r.Payload.(events.RunCompleted); ok && p.RunID == id {
				done = p
				return true
			}
		}
		return false
	})
	return id, done
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

// vm is the simulator's one ordinary VM.
func (e *env) vm() xapisim.VMInfo {
	for _, v := range e.sim.VMs() {
		if !v.IsSnapshot && !v.IsTemplate {
			return v
		}
	}
	e.t.Fatal("no VM")
	return xapisim.VMInfo{}
}

// liveDisks are the VM's disk VDIs (refs), in VBD order.
func (e *env) liveDisks() []xapi.VDIRef {
	e.t.Helper()
	ref, err := e.client.VMByUUID(context.Background(), e.vm().UUID)
	if err != nil {
		e.t.Fatal(err)
	}
	disks, err := e.client.VMDisks(context.Background(), ref)
	if err != nil || len(disks) != 2 {
		e.t.Fatalf("disks %v, %v", disks, err)
	}
	return disks
}

func (e *env) vdi(ref xapi.VDIRef) xapi.VDI {
	e.t.Helper()
	rec, err := e.client.VDIRecord(context.Background(), ref)
	if err != nil {
		e.t.Fatal(err)
	}
	return rec
}

// guestWrite writes as the VDI's guest would (POST /sim/vdi/<uuid>/write).
func (e *env) guestWrite(vdi xapi.VDIRef, offset, length int64, seed int) {
	e.t.Helper()
	u := fmt.Sprintf("%s/sim/vdi/%s/write?offset=%d&length=%d&seed=%d", e.url, e.vdi(vdi).UUID, offset, length, seed)
	resp, err := http.Post(u, "", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("guest write: %s", resp.Status)
	}
}

// nbdRead is GET /sim/stats' nbd_read byte counter.
func (e *env) nbdRead() int64 { return e.simBytes("nbd_read") }

// exportRead is GET /sim/stats' export_raw_vdi byte counter: what whole
// reads of disks cost the host.
func (e *env) exportRead() int64 { return e.simBytes("export_raw_vdi") }

// simBytes is one of GET /sim/stats' byte counters.
func (e *env) simBytes(kind string) int64 {
	e.t.Helper()
	resp, err := http.Get(e.url + "/sim/stats")
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Bytes map[string]int64 `json:"bytes"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		e.t.Fatal(err)
	}
	return st.Bytes[kind]
}

// assertPoint checks the restore point c reports: each disk, read back
// verified from the repository, equals /export_raw_vdi of the live disk it
// was read from, now (the guest has not written since).
func (e *env) assertPoint(c events.IncrementalCompleted) {
	e.t.Helper()
	ctx := context.Background()
	rp, err := e.repos.Ensure(ctx, "repo")
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := repo.ParsePoint(c.VMUUID + "/" + c.Timestamp)
	if err != nil {
		e.t.Fatal(err)
	}
	if want := "repo:xbr-repo/" + p.String(); len(c.Backups) != 1 || c.Backups[0].BackupID != want {
		e.t.Errorf("backups %+v, want %s", c.Backups, want)
	}
	m, err := rp.Manifest(ctx, p)
	if err != nil {
		e.t.Fatal(err)
	}
	recs, err := xva.DecodeRepoRecords(m.Records)
	if err != nil || len(recs.Disks) != 2 {
		e.t.Fatalf("records: %v (%d disks)", err, len(recs.Disks))
	}
	// What listings, restore's default name and retention read: the VM's own
	// name (not its snapshot's), the job and schedule with their ids.
	job, _ := e.cfg.Job("incr")
	sched, _ := job.Schedule("nightly")
	d, err := repoimage.Describe(m)
	want := repoimage.Description{VMName: e.vm().NameLabel, Job: "incr", JobID: job.ID, Schedule: "nightly", ScheduleID: sched.ID}
	if err != nil || d != want || job.ID == "" || sched.ID == "" {
		e.t.Errorf("point %s describes %+v, %v; want %+v", p, d, err, want)
	}
	for i, d := range recs.Disks {
		got := readAll(e.t, func() (io.ReadCloser, error) { return rp.OpenDisk(ctx, p, i) })
		live, err := e.client.VDIByUUID(ctx, d.SourceVDI)
		if err != nil {
			e.t.Fatal(err)
		}
		want := readAll(e.t, func() (io.ReadCloser, error) { return e.client.ExportRawVDI(ctx, live) })
		if !bytes.Equal(got, want) {
			e.t.Errorf("point %s disk %s (%s) differs from the live disk", p, d.Name, d.Userdevice)
		}
	}
}

func readAll(t *testing.T, open func() (io.ReadCloser, error)) []byte {
	t.Helper()
	r, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assertBases checks what the pool holds after a run: no snapshot VM, and
// exactly one cbt_metadata VDI (this job's base) per disk of the VM.
func (e *env) assertBases(want int) {
	e.t.Helper()
	if s := e.sim.Snapshots(); len(s) > 0 {
		e.t.Errorf("snapshot VMs left: %+v", s)
	}
	n := 0
	for _, ref := range e.sim.Refs("VDI") {
		rec, err := e.sim.Record("VDI", ref)
		if err != nil {
			e.t.Fatal(err)
		}
		switch {
		case rec["type"] == "cbt_metadata":
			n++
		case rec["is_a_snapshot"] == true:
			e.t.Errorf("snapshot disk with data left: %s", ref)
		}
	}
	if n != want {
		e.t.Errorf("%d cbt_metadata bases on the pool, want %d", n, want)
	}
}
