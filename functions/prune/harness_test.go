package prune_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/prune"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/remotetest"
	"xbr/shared/remote/s3"
	"xbr/shared/remote/s3/s3test"
	"xbr/shared/repo"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// The jobs of every test: two full jobs over the same VMs (so one's prune
// must never touch the other's backups), a full job with two schedules, and
// a snapshot job; a gc job.
const jobsYAML = `
  - name: nightly
    pools: [lab]
    remotes: [%[1]s]
    schedules:
      - {name: daily, cron: "0 2 * * *", retention: 3}
      - {name: weekly, cron: "0 3 * * 0", retention: 2}
  - name: other
    pools: [lab]
    remotes: [%[1]s]
    schedules:
      - {name: daily, cron: "0 4 * * *", retention: 1}
  - name: longterm
    pools: [lab]
    remotes: [%[1]s]
    schedules:
      - {name: daily, cron: "0 1 * * *", timezone: Europe/Paris, retention: 2, long_term: {daily: 3, monthly: 2}}
  - name: snap
    mode: snapshot
    pools: [lab]
    concurrency: 1
    schedules:
      - {name: hourly, cron: "0 * * * *", snapshot_retention: 2}
      - {name: daily, cron: "0 5 * * *", snapshot_retention: 1}
  - name: collect
    mode: gc
    remotes: [%[1]s]
    schedules:
      - {name: weekly, cron: "0 6 * * 0"}
  - name: points
    mode: incremental
    pools: [lab]
    remotes: [%[1]s]
    schedules:
      - {name: daily, cron: "0 7 * * *", retention: 3}
`

// clock is a settable time source shared by the simulator and the functions.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// world is one test's pool, remotes and prune function.
type world struct {
	t       *testing.T
	clock   *clock
	sim     *xapisim.Server
	client  *xapi.Client
	cfg     *config.Config
	remotes remoteMap
	repos   repoMap
	pruner  *prune.Pruner
	vms     []xapisim.VMInfo
}

type poolMap map[string]*xapi.Client

func (p poolMap) Names() []string { return []string{"lab"} }
func (p poolMap) Client(_ context.Context, name string) (*xapi.Client, error) {
	if c, ok := p[name]; ok {
		return c, nil
	}
	return nil, fmt.Errorf("pool %q is not configured", name)
}

type remoteMap map[string]remote.Remote

func (r remoteMap) Names() []string {
	var out []string
	for n := range r {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func (r remoteMap) Get(_ context.Context, name string) (remote.Remote, error) {
	if rm, ok := r[name]; ok {
		return rm, nil
	}
	return nil, fmt.Errorf("remote %q is not configured", name)
}

// repoMap opens the remotes' repositories as fn.Repos.Open does.
type repoMap struct {
	remotes remoteMap
	key     repo.Key
}

func (m repoMap) Open(ctx context.Context, name string) (*repo.Repo, error) {
	r, err := m.remotes.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	rp, err := repo.Open(ctx, r, m.key)
	if errors.Is(err, remote.ErrNotFound) {
		return nil, fmt.Errorf("remote %s: %w", name, fn.ErrNoRepository)
	}
	return rp, err
}

var t0 = time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)

// newWorld builds a simulated pool with vms VMs, the remote kind ("dir" or
// "s3", named "store") and the prune function.
func newWorld(t *testing.T, vms int, kind string) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, clock: newClock(t0), remotes: remoteMap{}}
	w.repos = repoMap{remotes: w.remotes}
	var err error
	w.sim, err = xapisim.New(xapisim.Options{VMs: vms, DiskSize: 1 << 20, DisksPerVM: 2, Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.sim.Close() })
	url, err := w.sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if w.client, err = xapi.New(url); err != nil {
		t.Fatal(err)
	}
	user, pass := w.sim.Credentials()
	if err := w.client.Login(ctx, user, pass); err != nil {
		t.Fatal(err)
	}
	remoteYAML := w.openRemote(kind)
	doc := fmt.Sprintf("pools: [{name: lab, url: %q, username: %s, password: %s}]\nremotes:\n%sjobs:%s",
		url, user, pass, remoteYAML, fmt.Sprintf(jobsYAML, "store"))
	if w.cfg, err = config.Parse("test.yaml", []byte(doc)); err != nil {
		t.Fatal(err)
	}
	for _, vm := range w.sim.VMs() {
		if !vm.IsSnapshot && !vm.IsTemplate {
			w.vms = append(w.vms, vm)
		}
	}
	w.pruner = w.newPruner(prune.Options{SweepEvery: -1})
	return w
}

func (w *world) newPruner(o prune.Options) *prune.Pruner {
	o.Now, o.Log = w.clock.Now, testLogger()
	return prune.New(w.cfg.Jobs, w.remotes, w.repos, poolMap{"lab": w.client}, events.Subjects{}, o)
}

func (w *world) openRemote(kind string) string {
	t := w.t
	switch kind {
	case "dir":
		root := t.TempDir()
		d, err := dir.New("store", root)
		if err != nil {
			t.Fatal(err)
		}
		w.remotes["store"] = d
		return fmt.Sprintf("  - {name: store, type: dir, path: %q}\n", root)
	case "s3":
		gw := s3test.Start(t)
		gw.NewBucket(t, "backups")
		b, err := s3.New(context.Background(), s3.Config{Name: "store", Endpoint: gw.Endpoint, Bucket: "backups",
			Prefix: "xbr", AccessKey: gw.AccessKey, SecretKey: gw.SecretKey})
		if err != nil {
			t.Fatal(err)
		}
		w.remotes["store"] = b
		return fmt.Sprintf("  - {name: store, type: s3, endpoint: %q, bucket: backups, access_key: k, secret_key: s}\n", gw.Endpoint)
	}
	t.Fatalf("remote kind %q", kind)
	return ""
}

func testLogger() *slog.Logger {
	if os.Getenv("XBR_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// put writes a committed backup of vm by job/schedule at at on r, as the
// export function does: the data, then the .json.
func put(t *testing.T, r remote.Remote, vm xapisim.VMInfo, job, sched string, at time.Time) catalog.ID {
	t.Helper()
	id, err := catalog.NewID(r.Name(), vm.UUID, at)
	if err != nil {
		t.Fatal(err)
	}
	ts := id.Timestamp()
	m := catalog.Metadata{JobID: job, Mode: catalog.ModeFull, ScheduleID: sched, Timestamp: at.UnixMilli(),
		Version:    catalog.MetadataVersion,
		VM:         fmt.Appendf(nil, `{"uuid":%q,"name_label":%q}`, vm.UUID, vm.NameLabel),
		VMSnapshot: []byte(`{"uuid":"9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"}`),
		XVA:        "./" + ts + ".xva", Size: 16,
		Xbr: &catalog.Xbr{Version: "test", SHA256: strings.Repeat("ab", 32), Codec: catalog.CodecNone,
			RunID: "run-" + ts, Pool: "lab", Job: job, Schedule: sched}}
	js, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	remotetest.PutBytes(t, r, id.DataKey(), []byte("0123456789abcdef"))
	remotetest.PutBytes(t, r, id.ChecksumKey(), []byte("checksum"))
	remotetest.PutBytes(t, r, id.MetaKey(), js)
	return id
}

// listed returns the ids of vm's backups of job/schedule on r, newest first.
func listed(t *testing.T, r remote.Remote, vm, job, sched string) []string {
	t.Helper()
	bs, problems, err := catalog.List(context.Background(), r, catalog.Filter{VM: vm, JobID: job, ScheduleID: sched})
	if err != nil || len(problems) > 0 {
		t.Fatalf("list: %v %v", err, problems)
	}
	var out []string
	for _, b := range bs {
		out = append(out, b.ID.String())
	}
	return out
}

// keys returns every key on r under prefix.
func keys(t *testing.T, r remote.Remote, prefix string) []string {
	t.Helper()
	infos, err := r.List(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, in := range infos {
		out = append(out, in.Key)
	}
	return out
}

// received builds the event a handler receives for payload p, the way the
// bus delivers it (encoded, then decoded).
func received(t *testing.T, id string, p events.Payload) bus.Event {
	t.Helper()
	m, err := events.Subjects{}.Message(events.Meta{ID: id, Source: "/test", Time: t0}, p)
	if err != nil {
		t.Fatal(err)
	}
	return redeliver(t, m, 1)
}

// redeliver turns an outgoing event into a delivery of it.
func redeliver(t testing.TB, m bus.Out, attempt uint64) bus.Event {
	return testsupport.Deliver(t, m, attempt, 0)
}

// exported is the export.completed of a backup written on the remotes.
func exported(t *testing.T, run string, vm xapisim.VMInfo, job, sched string, ids ...catalog.ID) bus.Event {
	t.Helper()
	p := events.ExportCompleted{RunID: run, Job: job, Schedule: sched, VMUUID: vm.UUID, VMName: vm.NameLabel,
		Pool: "lab", Timestamp: ids[0].Timestamp(), Codec: events.CodecNone, Size: 16, BytesRead: 16,
		SHA256: strings.Repeat("ab", 32)}
	for _, id := range ids {
		p.Backups = append(p.Backups, events.RemoteBackup{Remote: id.Remote, BackupID: id.String()})
	}
	return received(t, events.DeriveID("export.completed", run, vm.UUID), p)
}

// payloads returns the outs' payloads of type T.
func payloads[T events.Payload](t *testing.T, outs []bus.Out) []T {
	t.Helper()
	var out []T
	for _, o := range outs {
		ev := redeliver(t, o, 1)
		if p, ok := ev.Payload.(T); ok {
			out = append(out, p)
		}
	}
	return out
}

func deletedIDs(items []events.PrunedItem) []string {
	var out []string
	for _, d := range items {
		out = append(out, d.ID)
	}
	return out
}

// decodeOut returns out's payload, which must be a T.
func decodeOut[T events.Payload](t *testing.T, out bus.Out) T {
	t.Helper()
	got := payloads[T](t, []bus.Out{out})
	if len(got) != 1 {
		t.Fatalf("%s: not a %T", out.Subject, *new(T))
	}
	return got[0]
}
