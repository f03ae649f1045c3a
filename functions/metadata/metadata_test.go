package metadata_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/metadata"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/config"
	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

const schedID = "5b8e2f1c-7a3d-5e9f-b0c1-d2e3f4a5b6c7"

type pools map[string]*xapi.Client

func (p pools) Client(_ context.Context, name string) (*xapi.Client, error) {
	if c, ok := p[name]; ok {
		return c, nil
	}
	return nil, errors.New("pool " + name + " is unreachable")
}

type remotes map[string]remote.Remote

func (r remotes) Get(_ context.Context, name string) (remote.Remote, error) { return r[name], nil }

// fullRemote is a directory remote whose uploads fail: a full disk. A real
// remote cannot be made to fail on demand.
type fullRemote struct{ *dir.Dir }

func (f fullRemote) Create(ctx context.Context, key string, hint int64) (remote.Upload, error) {
	u, err := f.Dir.Create(ctx, key, hint)
	return failing{u}, err
}

type failing struct{ remote.Upload }

func (failing) Write([]byte) (int, error) { return 0, remote.ErrNoSpace }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func startSim(t *testing.T) *xapi.Client {
	t.Helper()
	_, _, c := testsupport.StartSim(t, xapisim.Options{VMs: 1, DiskSize: 1 << 20, DataDir: t.TempDir(), PoolName: "lab"})
	return c
}

func newDir(t *testing.T, name string) *dir.Dir {
	t.Helper()
	d, err := dir.New(name, t.TempDir())
	must(t, err)
	return d
}

type outcome map[events.Type][]events.Received

func decode(t *testing.T, outs []bus.Out) outcome {
	t.Helper()
	o := outcome{}
	for _, out := range outs {
		h, _, err := events.Encode(out.Event)
		must(t, err)
		r, err := events.Decode(out.Subject, h, out.Event.Data())
		must(t, err)
		o[r.Type()] = append(o[r.Type()], r)
	}
	return o
}

// A fire backs the pool up to every remote: the good one gets a committed
// backup, the full one a failed event and no file; the run is partial.
// Later fires keep the retention's 2 newest; a redelivered fire rewrites
// its folder; an unreachable pool fails on every remote.
func TestMetadataRuns(t *testing.T) {
	nfs, full := newDir(t, "nfs"), fullRemote{newDir(t, "full")}
	cfg := &config.Config{Jobs: []config.Job{{Name: "pooldb", ID: "74c79d5c-1f7d-5956-bb9a-53a413eef093",
		Mode: config.ModeMetadata, Pools: []string{"lab"}, Remotes: []string{"nfs", "full"},
		Schedules: []config.Schedule{{Name: "nightly", ID: schedID, Retention: 2, Enabled: true}}}}}
	t0 := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	now := t0
	h := &metadata.Handler{Config: cfg, Pools: pools{"lab": startSim(t)}, Remotes: remotes{"nfs": nfs, "full": full},
		Now: func() time.Time { return now }}
	fire := func(at time.Time) outcome {
		t.Helper()
		p := events.ScheduleDue{RunID: events.DeriveID("pooldb", at.String()), Job: "pooldb", Schedule: "nightly",
			Mode: config.ModeMetadata, FireTime: at}
		outs, err := h.Handle(context.Background(), bus.Event{Received: events.Received{Payload: p}})
		must(t, err)
		return decode(t, outs)
	}
	o := fire(t0)
	done, _ := events.PayloadAs[events.MetadataCompleted](o[events.TypeMetadataCompleted][0])
	failed, _ := events.PayloadAs[events.MetadataFailed](o[events.TypeMetadataFailed][0])
	run, _ := events.PayloadAs[events.RunCompleted](o[events.TypeRunCompleted][0])
	if len(o[events.TypeRunStarted]) != 1 || done.Remote != "nfs" || done.Bytes == 0 || failed.Remote != "full" ||
		!strings.Contains(failed.Error, "no space") || run.Status != events.StatusPartial || len(run.Results) != 2 {
		t.Fatalf("first fire: completed %+v, failed %+v, run %+v", done, failed, run)
	}
	if left, _ := full.List(context.Background(), ""); len(left) != 0 {
		t.Fatalf("the full remote holds %v after a failed backup", left)
	}
	id, err := catalog.ParsePoolMetaID(done.BackupID)
	must(t, err)
	data, err := os.ReadFile(filepath.Join(nfs.Root(), id.Key(catalog.PoolMetaData)))
	if err != nil || !strings.HasPrefix(string(data), `<?xml version="1.0" encoding="UTF-8"?><database>`) || int64(len(data)) != done.Bytes {
		t.Fatalf("data = %.80q (%v), want the %d-byte dump", data, err, done.Bytes)
	}
	for i := 1; i <= 3; i++ {
		o = fire(t0.Add(time.Duration(i) * time.Hour))
		if len(o[events.TypeMetadataCompleted]) != 1 {
			t.Fatalf("fire %d: %d completed, want 1 (nfs)", i, len(o[events.TypeMetadataCompleted]))
		}
	}
	o = fire(t0.Add(3 * time.Hour)) // redelivered
	last, _ := events.PayloadAs[events.MetadataCompleted](o[events.TypeMetadataCompleted][0])
	backups, _, err := catalog.ListPoolMeta(context.Background(), nfs)
	must(t, err)
	if len(backups) != 2 || !backups[0].Timestamp.Equal(t0.Add(3*time.Hour)) || !backups[1].Timestamp.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("after 4 fires and a redelivery: %+v, want the 2 newest", backups)
	}
	if len(last.Deleted) != 0 || last.BackupID != backups[0].ID {
		t.Fatalf("redelivered fire: %+v", last)
	}
	h.Pools = pools{}
	o = fire(t0.Add(4 * time.Hour))
	run, _ = events.PayloadAs[events.RunCompleted](o[events.TypeRunCompleted][0])
	if len(o[events.TypeMetadataFailed]) != 2 || run.Status != events.StatusFailure {
		t.Fatalf("unreachable pool: %d failed, run %+v", len(o[events.TypeMetadataFailed]), run)
	}
}

func TestMetadataRefusesOtherFires(t *testing.T) {
	cfg := &config.Config{Jobs: []config.Job{{Name: "nightly", Mode: config.ModeFull}}}
	h := &metadata.Handler{Config: cfg}
	for _, mode := range []string{config.ModeFull, config.ModeMetadata} {
		p := events.ScheduleDue{RunID: "r1", Job: "nightly", Schedule: "daily", Mode: mode, FireTime: time.Now()}
		if _, err := h.Handle(context.Background(), bus.Event{Received: events.Received{Payload: p}}); !bus.IsPermanent(err) {
			t.Fatalf("fire of mode %s for a full job: %v, want a permanent error", mode, err)
		}
	}
	if f := metadata.Filter(events.Subjects{}); f != "xbr.schedule.due.metadata.>" {
		t.Fatalf("filter %s", f)
	}
}

// A remote Xen Orchestra encrypts gets no pool metadata backup (xbr would
// write it in plain text beside XO's ciphertext): it fails alone, naming
// why, and the other remote gets the backup.
func TestMetadataRefusesAnXOEncryptedRemote(t *testing.T) {
	nfs, xo := newDir(t, "nfs"), newDir(t, "xo")
	must(t, os.WriteFile(filepath.Join(xo.Root(), "encryption.json"), []byte(`{"algorithm":"chacha20-poly1305"}`), 0o644))
	cfg := &config.Config{Jobs: []config.Job{{Name: "pooldb", ID: "74c79d5c-1f7d-5956-bb9a-53a413eef093",
		Mode: config.ModeMetadata, Pools: []string{"lab"}, Remotes: []string{"xo", "nfs"},
		Schedules: []config.Schedule{{Name: "nightly", ID: schedID, Retention: 2, Enabled: true}}}}}
	at := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	h := &metadata.Handler{Config: cfg, Pools: pools{"lab": startSim(t)}, Remotes: remotes{"nfs": nfs, "xo": xo},
		Now: func() time.Time { return at }}
	p := events.ScheduleDue{RunID: events.DeriveID("pooldb", at.String()), Job: "pooldb", Schedule: "nightly",
		Mode: config.ModeMetadata, FireTime: at}
	outs, err := h.Handle(context.Background(), bus.Event{Received: events.Received{Payload: p}})
	must(t, err)
	o := decode(t, outs)
	if len(o[events.TypeMetadataCompleted]) != 1 || len(o[events.TypeMetadataFailed]) != 1 {
		t.Fatalf("%d completed, %d failed; want one each", len(o[events.TypeMetadataCompleted]), len(o[events.TypeMetadataFailed]))
	}
	done, _ := events.PayloadAs[events.MetadataCompleted](o[events.TypeMetadataCompleted][0])
	failed, _ := events.PayloadAs[events.MetadataFailed](o[events.TypeMetadataFailed][0])
	run, _ := events.PayloadAs[events.RunCompleted](o[events.TypeRunCompleted][0])
	if done.Remote != "nfs" || failed.Remote != "xo" || !strings.Contains(failed.Error, "encrypted") || run.Status != events.StatusPartial {
		t.Fatalf("completed %+v, failed %+v, run %s", done, failed, run.Status)
	}
	left, err := xo.List(context.Background(), "")
	must(t, err)
	if len(left) != 1 {
		t.Fatalf("the encrypted remote holds %v, want only its encryption.json", left)
	}
}

// A fire that waited in the stream longer than catch_up (the function was
// down) is skipped and its run says so; a fire the timer caught up near the
// window's edge, handled a moment later, runs.
func TestMetadataStaleFire(t *testing.T) {
	nfs := newDir(t, "nfs")
	cfg := &config.Config{CatchUp: time.Hour, Jobs: []config.Job{{Name: "pooldb", ID: "74c79d5c-1f7d-5956-bb9a-53a413eef093",
		Mode: config.ModeMetadata, Pools: []string{"lab"}, Remotes: []string{"nfs"},
		Schedules: []config.Schedule{{Name: "nightly", ID: schedID, Retention: 2, Enabled: true}}}}}
	now := time.Date(2026, 11, 29, 5, 0, 0, 0, time.UTC)
	h := &metadata.Handler{Config: cfg, Pools: pools{"lab": startSim(t)}, Remotes: remotes{"nfs": nfs},
		Now: func() time.Time { return now }}
	fire := func(at, stored time.Time) outcome {
		t.Helper()
		p := events.ScheduleDue{RunID: events.DeriveID("pooldb", at.String()), Job: "pooldb", Schedule: "nightly",
			Mode: config.ModeMetadata, FireTime: at}
		outs, err := h.Handle(context.Background(), bus.Event{Received: events.Received{Payload: p}, Delivery: bus.Delivery{Attempt: 1, Stored: stored}})
		must(t, err)
		return decode(t, outs)
	}
	o := fire(now.Add(-3*time.Hour), now.Add(-3*time.Hour))
	if len(o[events.TypeRunCompleted]) != 1 {
		t.Fatalf("a fire that waited 3 h: %d run.completed, want 1 (skipped)", len(o[events.TypeRunCompleted]))
	}
	done, _ := events.PayloadAs[events.RunCompleted](o[events.TypeRunCompleted][0])
	if len(o) != 1 || done.Status != events.StatusSkipped || !strings.Contains(done.Reason, "catch_up") {
		t.Fatalf("a fire that waited 3 h: %d kinds of event, run %+v; want run.completed skipped, naming catch_up", len(o), done)
	}
	o = fire(now.Add(-61*time.Minute), now.Add(-2*time.Minute))
	if len(o[events.TypeMetadataCompleted]) != 1 {
		t.Fatalf("a fire the timer caught up 59 min late, handled 2 min later: %d completed, want it backed up", len(o[events.TypeMetadataCompleted]))
	}
}

// A job whose only remote fails to take the dump (a full disk) says why on
// that remote, not only that every remote failed.
func TestMetadataNamesWhyTheOnlyRemoteFailed(t *testing.T) {
	full := fullRemote{newDir(t, "full")}
	cfg := &config.Config{Jobs: []config.Job{{Name: "pooldb", ID: "74c79d5c-1f7d-5956-bb9a-53a413eef093",
		Mode: config.ModeMetadata, Pools: []string{"lab"}, Remotes: []string{"full"},
		Schedules: []config.Schedule{{Name: "nightly", ID: schedID, Retention: 2, Enabled: true}}}}}
	at := time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)
	h := &metadata.Handler{Config: cfg, Pools: pools{"lab": startSim(t)}, Remotes: remotes{"full": full},
		Now: func() time.Time { return at }}
	p := events.ScheduleDue{RunID: events.DeriveID("pooldb", at.String()), Job: "pooldb", Schedule: "nightly",
		Mode: config.ModeMetadata, FireTime: at}
	outs, err := h.Handle(context.Background(), bus.Event{Received: events.Received{Payload: p}})
	must(t, err)
	o := decode(t, outs)
	if len(o[events.TypeMetadataFailed]) != 1 {
		t.Fatalf("%d failed, want 1", len(o[events.TypeMetadataFailed]))
	}
	failed, _ := events.PayloadAs[events.MetadataFailed](o[events.TypeMetadataFailed][0])
	if failed.Remote != "full" || !strings.Contains(failed.Error, "no space") {
		t.Fatalf("failed %+v, want the remote's error (no space)", failed)
	}
	if left, _ := full.List(context.Background(), ""); len(left) != 0 {
		t.Fatalf("the full remote holds %v after a failed backup", left)
	}
}
