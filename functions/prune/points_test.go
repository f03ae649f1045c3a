package prune_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"xbr/events"
	"xbr/functions/prune"
	"xbr/shared/bus"
	"xbr/shared/remote"
	"xbr/shared/remote/remotetest"
	"xbr/shared/repo"
	"xbr/shared/repo/repotest"
	"xbr/shared/repoimage/repoimagetest"
	"xbr/shared/xapi/xapisim"
	"xbr/shared/xva"
)

// unscoped are the records of a point written before points named their job
// and schedule: it counts in every retention scope of its VM.
var unscoped = json.RawMessage(`{"format":"xbr-ova-1"}`)

// writePoints stores n restore points of repotest.VMA, a day apart from
// repotest.T0, each with 3 chunks of its own (and 3 zero chunks), and
// returns their ids on remote "store", oldest first.
func writePoints(t *testing.T, rp *repo.Repo, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		at := repotest.T0.Add(time.Duration(i) * 24 * time.Hour)
		repotest.WritePointRecords(t, rp, repotest.VMA, at, repotest.DiskImage(uint64(100+i), 6*repotest.ChunkSize), unscoped)
		ids = append(ids, prune.PointID("store", repo.Point{VM: repotest.VMA, Time: at}))
	}
	return ids
}

func pointsDone(id string) prune.PointsDone {
	return prune.PointsDone{RunID: "run-1", Job: "nightly", Schedule: "daily", VMUUID: repotest.VMA,
		Backups: []events.RemoteBackup{{Remote: "store", BackupID: id}}}
}

// onePruned is the one prune.completed of a Points call, and the ids it deleted.
func onePruned(t *testing.T, outs []bus.Out, err error) (events.PruneCompleted, []string) {
	t.Helper()
	if err != nil || len(outs) != 1 {
		t.Fatalf("Points = %d outs, %v", len(outs), err)
	}
	got := decodeOut[events.PruneCompleted](t, outs[0])
	var deleted []string
	for _, d := range got.Deleted {
		deleted = append(deleted, d.ID)
	}
	return got, deleted
}

// TestPointsRetentionAndGC: after an incremental backup, the VM's restore
// points beyond the schedule's depth (3) are deleted, oldest first, and the
// GC that follows removes exactly the chunks only they used; the kept
// points still read back whole, and Verify finds nothing missing.
func TestPointsRetentionAndGC(t *testing.T) {
	for _, kind := range []string{"dir", "s3"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, 1, kind)
			rp := repotest.Init(t, w.remotes["store"], repo.Key{})
			ids := writePoints(t, rp, 5)
			// S3 keeps whole seconds; the sweep only removes chunks older than its marker.
			time.Sleep(1100 * time.Millisecond)
			p := w.newPruner(prune.Options{SweepEvery: -1, GCGrace: -1})
			// The incremental function's event, as the bus delivers it.
			outs, err := p.Handle(ctx, received(t, "trigger-1", events.IncrementalCompleted{RunID: "run-1", Job: "nightly",
				Schedule: "daily", VMUUID: repotest.VMA, Pool: "lab", Timestamp: "20261210T020000Z", Path: events.PathCBT,
				Backups: []events.RemoteBackup{{Remote: "store", BackupID: ids[4]}}}))
			got, deleted := onePruned(t, outs, err)
			if !slices.Equal(deleted, ids[:2]) || !slices.Equal(got.Kept, []string{ids[4], ids[3], ids[2]}) {
				t.Fatalf("deleted %v kept %v, want deleted %v", deleted, got.Kept, ids[:2])
			}
			if gcs := collectAfterRun(t, p, "run-1"); len(gcs) != 1 || gcs[0].ChunksSwept != 6 || gcs[0].BytesSwept <= 0 || gcs[0].Deferred {
				t.Fatalf("gc at the run's end = %+v, want the 6 chunks of the 2 deleted points swept", gcs)
			}
			points, err := rp.List(ctx, repotest.VMA)
			if err != nil || len(points) != 3 {
				t.Fatalf("points left: %v, %v", points, err)
			}
			for i, pi := range points {
				img, err := repotest.ReadDisk(t, rp, pi.Point)
				if err != nil || repotest.Sum(img) != repotest.Sum(repotest.DiskImage(uint64(102+i), 6*repotest.ChunkSize)) {
					t.Fatalf("point %s after gc: %v", pi.Point, err)
				}
			}
			if rep, err := rp.Verify(ctx, repo.VerifyOptions{Deep: true}); err != nil || rep.Err() != nil {
				t.Fatalf("verify after gc: %v %v", err, rep.Err())
			}
			// A redelivery decides the same and deletes nothing more: no GC runs.
			outs, err = p.Points(ctx, "trigger-1", pointsDone(ids[4]))
			if err != nil || len(outs) != 1 {
				t.Fatalf("again: %d outs, %v", len(outs), err)
			}
			if again := decodeOut[events.PruneCompleted](t, outs[0]); len(again.Deleted) != 0 || again.GC != nil {
				t.Fatalf("redelivery: %+v", again)
			}
			if gcs := collectAfterRun(t, p, "run-1"); len(gcs) != 0 {
				t.Fatalf("redelivered run end collected again: %+v", gcs)
			}
		})
	}
}

// collectAfterRun hands p the end of run (of the incremental job "points",
// whose remote is store) and returns the GCs it ran; it fails the test on a
// GC that failed.
func collectAfterRun(t *testing.T, p *prune.Pruner, run string) []events.GCCompleted {
	t.Helper()
	outs, err := p.Handle(context.Background(), received(t, "end-"+run, events.RunCompleted{RunID: run, Job: "points",
		Schedule: "daily", Status: events.StatusSuccess}))
	if err != nil {
		t.Fatalf("run.completed %s: %v", run, err)
	}
	if failed := payloads[events.GCFailed](t, outs); len(failed) != 0 {
		t.Fatalf("gc at the end of %s failed: %+v", run, failed)
	}
	return payloads[events.GCCompleted](t, outs)
}

// scopeWorld is a world with a plain repository on remote store, and a real
// export of a halted VM to store points of.
func scopeWorld(t *testing.T) (*world, *repo.Repo, xapisim.VMInfo, []byte) {
	t.Helper()
	w := newWorld(t, 1, "dir")
	rp := repotest.Init(t, w.remotes["store"], repo.Key{})
	vm, data := repoimagetest.ExportHalted(t, 2<<20)
	return w, rp, vm, data
}

// scopeOf sets records to name job and schedule (and their ids) of w's configuration.
func scopeOf(w *world, job, schedule string) func(*xva.RepoRecords) {
	jc, _ := w.cfg.Job(job)
	sc, _ := jc.Schedule(schedule)
	return func(r *xva.RepoRecords) { r.Job, r.JobID, r.Schedule, r.ScheduleID = job, jc.ID, schedule, sc.ID }
}

// TestPointsRetentionPerSchedule: retention is per job and schedule, as for
// full backups. A daily run of depth 3 prunes only the daily points of its VM
// (and one written before points named their schedule, which any scope
// counts): the same job's weekly points and another job's stay whatever their
// age.
func TestPointsRetentionPerSchedule(t *testing.T) {
	ctx := context.Background()
	w, rp, vm, data := scopeWorld(t)
	job, _ := w.cfg.Job("nightly")
	other, _ := w.cfg.Job("other")
	scope := func(j, s string) func(*xva.RepoRecords) { return scopeOf(w, j, s) }
	written := []struct {
		scope func(*xva.RepoRecords) // format 1 without ids: written before points named their scope
		gone  bool
	}{
		{func(r *xva.RepoRecords) { r.Format = xva.RepoFormatV1 }, true},
		{scope("nightly", "weekly"), false},
		{scope("nightly", "daily"), true},
		{scope("other", "daily"), false},
		{scope("nightly", "weekly"), false},
		{scope("nightly", "daily"), false},
		{scope("nightly", "daily"), false},
		{scope("nightly", "daily"), false}, // the new one
	}
	var ids, wantGone, wantKept []string
	for i, p := range written {
		at := repotest.T0.Add(time.Duration(i) * 24 * time.Hour)
		repoimagetest.StorePointWith(t, rp, vm.UUID, at, bytes.NewReader(data), p.scope)
		id := prune.PointID("store", repo.Point{VM: vm.UUID, Time: at})
		ids = append(ids, id)
		if p.gone {
			wantGone = append(wantGone, id)
		}
	}
	wantKept = []string{ids[7], ids[6], ids[5]}
	if job.ID == "" || other.ID == "" || job.ID == other.ID {
		t.Fatalf("job ids %q %q", job.ID, other.ID)
	}
	// An event whose point is not of its schedule (a rename without id:) deletes nothing.
	outs, err := w.pruner.Points(ctx, "t-other", prune.PointsDone{RunID: "run-0", Job: "nightly", Schedule: "weekly",
		VMUUID: vm.UUID, Backups: []events.RemoteBackup{{Remote: "store", BackupID: ids[7]}}})
	if err != nil || len(outs) != 1 {
		t.Fatalf("Points = %d outs, %v", len(outs), err)
	}
	if f := decodeOut[events.PruneFailed](t, outs[0]); !strings.Contains(f.Error, "is not among the points of job nightly, schedule weekly") ||
		len(f.Deleted) != 0 {
		t.Fatalf("prune of another schedule's point: %+v", f)
	}
	outs, err = w.pruner.Points(ctx, "t-scope", prune.PointsDone{RunID: "run-1", Job: "nightly", Schedule: "daily",
		VMUUID: vm.UUID, Backups: []events.RemoteBackup{{Remote: "store", BackupID: ids[7]}}})
	got, deleted := onePruned(t, outs, err)
	if !slices.Equal(deleted, wantGone) || !slices.Equal(got.Kept, wantKept) {
		t.Fatalf("deleted %v kept %v, want deleted %v kept %v", deleted, got.Kept, wantGone, wantKept)
	}
	points, err := rp.List(ctx, vm.UUID)
	if err != nil || len(points) != len(ids)-len(wantGone) {
		t.Fatalf("points left: %d, %v; want %d", len(points), err, len(ids)-len(wantGone))
	}
}

// TestPointsUnreadable: a point whose manifest is damaged counts in every
// scope (it cannot be restored, and it stops the repository's GC while it is
// there), so it goes once outside the depth and the GC that follows succeeds;
// one whose records are not an object is never a candidate; a manifest that
// cannot be opened, or whose read is cut short by the network, fails the
// prune, which deletes nothing.
func TestPointsUnreadable(t *testing.T) {
	ctx := context.Background()
	w, rp, vm, data := scopeWorld(t)
	scoped := scopeOf(w, "nightly", "daily")
	var ids, keys []string
	for i := range 7 {
		at := repotest.T0.Add(time.Duration(i) * 24 * time.Hour)
		if i == 1 { // records that are JSON, but not an object
			b, err := rp.Begin(ctx, vm.UUID, at)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Commit(ctx, []byte(`[1]`)); err != nil {
				t.Fatal(err)
			}
		} else {
			repoimagetest.StorePointWith(t, rp, vm.UUID, at, bytes.NewReader(data), scoped)
		}
		pt := repo.Point{VM: vm.UUID, Time: at}
		ids = append(ids, prune.PointID("store", pt))
		keys = append(keys, repo.Root+"/vms/"+pt.String()+".json")
	}
	remotetest.PutBytes(t, rp.Remote(), keys[0], []byte(`{"format":`))
	prunePoint := func(run, id string) []bus.Out {
		t.Helper()
		outs, err := w.pruner.Points(ctx, run, prune.PointsDone{RunID: run, Job: "nightly", Schedule: "daily",
			VMUUID: vm.UUID, Backups: []events.RemoteBackup{{Remote: "store", BackupID: id}}})
		if err != nil || len(outs) != 1 {
			t.Fatalf("Points = %d outs, %v", len(outs), err)
		}
		return outs
	}
	// Daily, depth 3: points 4 to 6 are kept, so the damaged 0, and 2 and 3
	// go; 1 would go too if it counted.
	got, deleted := onePruned(t, prunePoint("run-1", ids[6]), nil)
	if want := []string{ids[0], ids[2], ids[3]}; !slices.Equal(deleted, want) || !slices.Equal(got.Kept, []string{ids[6], ids[5], ids[4]}) {
		t.Fatalf("deleted %v kept %v, want deleted %v", deleted, got.Kept, want)
	}
	if gcs := collectAfterRun(t, w.pruner, "run-1"); len(gcs) != 1 || gcs[0].Deferred {
		t.Fatalf("the GC at the run's end: %+v, want it to run without error", gcs)
	}

	// A newer point makes 4 a candidate; a manifest read cut short by the
	// network, or one that cannot be opened, fails the prune instead.
	at := repotest.T0.Add(7 * 24 * time.Hour)
	repoimagetest.StorePointWith(t, rp, vm.UUID, at, bytes.NewReader(data), scoped)
	newest := prune.PointID("store", repo.Point{VM: vm.UUID, Time: at})
	faulty := &faultyRemote{Remote: w.remotes["store"], reset: keys[5]}
	w.remotes["store"] = faulty
	for _, c := range []struct{ run, want string }{{"run-2", "connection reset by peer"}, {"run-3", "permission denied"}} {
		if c.run == "run-3" {
			faulty.reset, faulty.fail = "", keys[5]
		}
		if f := decodeOut[events.PruneFailed](t, prunePoint(c.run, newest)[0]); !strings.Contains(f.Error, "nothing pruned") ||
			!strings.Contains(f.Error, c.want) || len(f.Deleted) != 0 {
			t.Fatalf("%s: prune with a manifest that cannot be read: %+v, want %q", c.run, f, c.want)
		}
	}
	if faulty.resets.Load() == 0 {
		t.Fatal("no manifest read was cut short")
	}
	faulty.fail = ""
	if _, deleted := onePruned(t, prunePoint("run-4", newest), nil); !slices.Equal(deleted, ids[4:5]) {
		t.Fatalf("after the faults: deleted %v, want %v", deleted, ids[4:5])
	}
}

// faultyRemote cuts the read of object reset short with a connection reset
// after a few bytes, fails the opening of object fail and the deletion of
// object undeletable: the faults of a network remote, which no real part
// produces on cue.
type faultyRemote struct {
	remote.Remote
	reset, fail, undeletable string
	resets                   atomic.Int64
}

func (r *faultyRemote) Delete(ctx context.Context, key string) error {
	if key == r.undeletable {
		return fmt.Errorf("delete %s: %w", key, fs.ErrPermission)
	}
	return r.Remote.Delete(ctx, key)
}

func (r *faultyRemote) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if key == r.fail {
		return nil, fmt.Errorf("open %s: %w", key, fs.ErrPermission)
	}
	rc, err := r.Remote.Open(ctx, key)
	if err != nil || key != r.reset {
		return rc, err
	}
	r.resets.Add(1)
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(io.LimitReader(rc, 40), iotest.ErrReader(syscall.ECONNRESET)), rc}, nil
}

// TestPointsRefusals: nothing is deleted when the new point is not listed,
// when the remote holds no repository, or when the id is not a restore
// point's; each is a prune.failed that says why.
func TestPointsRefusals(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 1, "dir")
	noRepo, err := w.pruner.Points(ctx, "t0", pointsDone(prune.PointID("store", repo.Point{VM: repotest.VMA, Time: repotest.T0})))
	if err != nil || len(noRepo) != 1 {
		t.Fatalf("no repository: %d outs, %v", len(noRepo), err)
	}
	if f := decodeOut[events.PruneFailed](t, noRepo[0]); !strings.Contains(f.Error, "holds no incremental repository") {
		t.Fatalf("no repository: %q", f.Error)
	}
	rp := repotest.Init(t, w.remotes["store"], repo.Key{})
	ids := writePoints(t, rp, 4)
	future := prune.PointID("store", repo.Point{VM: repotest.VMA, Time: repotest.T0.Add(30 * 24 * time.Hour)})
	for _, c := range []struct{ id, want string }{
		{future, "is not listed on its remote; nothing pruned"},
		{"store/" + repotest.VMA + "/20261206T020000Z", "invalid backup id"},
		{"store:" + repotest.VMA + "/20261206T020000Z", "not a restore point of an incremental repository"},
		{prune.PointID("other", repo.Point{VM: repotest.VMA, Time: repotest.T0}), "is not of vm"},
	} {
		outs, err := w.pruner.Points(ctx, "t1", pointsDone(c.id))
		if err != nil || len(outs) != 1 {
			t.Fatalf("%s: %d outs, %v", c.id, len(outs), err)
		}
		if f := decodeOut[events.PruneFailed](t, outs[0]); !strings.Contains(f.Error, c.want) || len(f.Deleted) != 0 {
			t.Fatalf("%s: %+v, want an error with %q", c.id, f, c.want)
		}
	}
	if points, err := rp.List(ctx, repotest.VMA); err != nil || len(points) != len(ids) {
		t.Fatalf("points after refusals: %d, %v", len(points), err)
	}
}

// FuzzParsePointID: a restore point id from an event never panics, and one
// that parses names the same point when written again.
func FuzzParsePointID(f *testing.F) {
	f.Add("nfs:xbr-repo/" + repotest.VMA + "/20261206T020000Z")
	f.Add("nfs:xbr-repo/../x")
	f.Fuzz(func(t *testing.T, s string) {
		rem, p, err := prune.ParsePointID(s)
		if err != nil {
			return
		}
		if again := prune.PointID(rem, p); again != s {
			t.Fatalf("%q parsed and written again is %q", s, again)
		}
	})
}

// TestPointsGCOncePerRun: a run's prunes delete manifests only, and the
// repository is collected once, when the run ends, not once per VM: each GC
// reads every manifest of the repository, so one per VM made a run's cost
// grow with the square of its VMs. A run that deleted nothing collects
// nothing.
func TestPointsGCOncePerRun(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 1, "dir")
	rp := repotest.Init(t, w.remotes["store"], repo.Key{})
	var newest []string
	for k, vm := range []string{repotest.VMA, repotest.VMB} {
		for i := range 4 { // 3 chunks of their own each; daily keeps 3
			at := repotest.T0.Add(time.Duration(i) * 24 * time.Hour)
			repotest.WritePointRecords(t, rp, vm, at, repotest.DiskImage(uint64(200+10*k+i), 6*repotest.ChunkSize), unscoped)
		}
		newest = append(newest, prune.PointID("store", repo.Point{VM: vm, Time: repotest.T0.Add(3 * 24 * time.Hour)}))
	}
	chunksBefore := len(keys(t, w.remotes["store"], "xbr-repo/chunks/"))
	p := w.newPruner(prune.Options{SweepEvery: -1, GCGrace: -1})
	for k, vm := range []string{repotest.VMA, repotest.VMB} {
		outs, err := p.Points(ctx, "trigger-"+vm, prune.PointsDone{RunID: "run-1", Job: "points", Schedule: "daily",
			VMUUID: vm, Backups: []events.RemoteBackup{{Remote: "store", BackupID: newest[k]}}})
		got, deleted := onePruned(t, outs, err)
		if len(deleted) != 1 || got.GC != nil {
			t.Fatalf("prune of %s: deleted %v, gc %+v: want one point deleted and no GC", vm, deleted, got.GC)
		}
	}
	if n := len(keys(t, w.remotes["store"], "xbr-repo/chunks/")); n != chunksBefore {
		t.Fatalf("%d chunks after the prunes, want the %d before: no GC until the run ends", n, chunksBefore)
	}
	gcs := collectAfterRun(t, p, "run-1")
	if len(gcs) != 1 || gcs[0].Remote != "store" || gcs[0].RunID != "run-1" || gcs[0].Manifests != 6 ||
		gcs[0].ChunksSwept != 6 || gcs[0].Deferred {
		t.Fatalf("gc at the run's end = %+v, want one over 6 manifests sweeping the 6 chunks of the 2 deleted points", gcs)
	}
	if rep, err := rp.Verify(ctx, repo.VerifyOptions{Deep: true}); err != nil || rep.Err() != nil {
		t.Fatalf("verify after gc: %v %v", err, rep.Err())
	}
	if gcs := collectAfterRun(t, p, "run-2"); len(gcs) != 0 {
		t.Fatalf("a run that deleted nothing collected: %+v", gcs)
	}
}

// TestPointsAfterTheRunEnded: the end of a run and its VMs' prunes are
// handled concurrently, so a prune can delete points after the run's GC
// found nothing due: that prune collects them itself.
func TestPointsAfterTheRunEnded(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 1, "dir")
	rp := repotest.Init(t, w.remotes["store"], repo.Key{})
	ids := writePoints(t, rp, 4) // daily keeps 3
	p := w.newPruner(prune.Options{SweepEvery: -1, GCGrace: -1})
	if gcs := collectAfterRun(t, p, "run-1"); len(gcs) != 0 {
		t.Fatalf("nothing deleted yet, yet the run's end collected: %+v", gcs)
	}
	outs, err := p.Points(ctx, "trigger-1", prune.PointsDone{RunID: "run-1", Job: "points", Schedule: "daily",
		VMUUID: repotest.VMA, Backups: []events.RemoteBackup{{Remote: "store", BackupID: ids[3]}}})
	if err != nil {
		t.Fatal(err)
	}
	pruned, gcs := payloads[events.PruneCompleted](t, outs), payloads[events.GCCompleted](t, outs)
	if len(pruned) != 1 || len(pruned[0].Deleted) != 1 || len(gcs) != 1 || gcs[0].RunID != "run-1" || gcs[0].ChunksSwept != 3 {
		t.Fatalf("prune after the run's end: pruned %+v, gc %+v; want 1 point deleted and its 3 chunks swept", pruned, gcs)
	}
	// Another run's prune, its run still going, leaves the GC to its end.
	at := repotest.T0.Add(4 * 24 * time.Hour)
	repotest.WritePointRecords(t, rp, repotest.VMA, at, repotest.DiskImage(104, 6*repotest.ChunkSize), unscoped)
	outs, err = p.Points(ctx, "trigger-2", prune.PointsDone{RunID: "run-2", Job: "points", Schedule: "daily",
		VMUUID: repotest.VMA, Backups: []events.RemoteBackup{{Remote: "store", BackupID: prune.PointID("store", repo.Point{VM: repotest.VMA, Time: at})}}})
	if _, deleted := onePruned(t, outs, err); len(deleted) != 1 {
		t.Fatalf("prune of a running run deleted %v, want one point and no GC", deleted)
	}
}

// TestLateGCEventsDistinct: the run's end and a prune handled after it each
// collect; their xbr.gc.completed have different ids, so the bus (which
// drops a repeated id as a duplicate) publishes both.
func TestLateGCEventsDistinct(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 1, "dir")
	rp := repotest.Init(t, w.remotes["store"], repo.Key{})
	newest := map[string]string{}
	for k, vm := range []string{repotest.VMA, repotest.VMB} {
		for i := range 4 {
			at := repotest.T0.Add(time.Duration(i) * 24 * time.Hour)
			repotest.WritePointRecords(t, rp, vm, at, repotest.DiskImage(uint64(300+10*k+i), 6*repotest.ChunkSize), unscoped)
		}
		newest[vm] = prune.PointID("store", repo.Point{VM: vm, Time: repotest.T0.Add(3 * 24 * time.Hour)})
	}
	p := w.newPruner(prune.Options{SweepEvery: -1, GCGrace: -1})
	prunePoints := func(vm string) []bus.Out {
		outs, err := p.Points(ctx, "trigger-"+vm, prune.PointsDone{RunID: "run-1", Job: "points", Schedule: "daily",
			VMUUID: vm, Backups: []events.RemoteBackup{{Remote: "store", BackupID: newest[vm]}}})
		if err != nil {
			t.Fatal(err)
		}
		return outs
	}
	prunePoints(repotest.VMA)
	endOuts, err := p.Handle(ctx, received(t, "end-run-1", events.RunCompleted{RunID: "run-1", Job: "points",
		Schedule: "daily", Status: events.StatusSuccess}))
	if err != nil {
		t.Fatal(err)
	}
	late := prunePoints(repotest.VMB)
	ids := map[string]bool{}
	n := 0
	for _, o := range append(endOuts, late...) {
		ev := redeliver(t, o, 1)
		if _, ok := ev.Payload.(events.GCCompleted); ok {
			n++
			ids[ev.Event.ID()] = true
		}
	}
	if n != 2 || len(ids) != 2 {
		t.Fatalf("%d gc.completed with %d distinct ids, want 2 and 2", n, len(ids))
	}
}

// cancelOnSweep cancels a context when a GC starts sweeping (it lists the
// chunk shards): the process is told to stop mid-GC.
type cancelOnSweep struct {
	remote.Remote
	cancel context.CancelFunc
}

func (c cancelOnSweep) List(ctx context.Context, prefix string) ([]remote.Info, error) {
	if strings.HasPrefix(prefix, repo.Root+"/chunks/") {
		c.cancel()
	}
	return c.Remote.List(ctx, prefix)
}

// TestLateGCShutdownKeepsPruneRecord: a prune handled after its run's end
// deletes a point, then the process stops during the GC that follows: the
// prune.completed naming the deleted point is still returned (a redelivery
// would find nothing left to delete and could not name it); the repository
// stays due for the next GC.
func TestLateGCShutdownKeepsPruneRecord(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newWorld(t, 1, "dir")
	rp := repotest.Init(t, w.remotes["store"], repo.Key{})
	ids := writePoints(t, rp, 4)
	p := w.newPruner(prune.Options{SweepEvery: -1, GCGrace: -1})
	collectAfterRun(t, p, "run-1") // nothing due yet
	w.remotes["store"] = cancelOnSweep{Remote: w.remotes["store"], cancel: cancel}
	outs, err := p.Points(ctx, "trigger-1", prune.PointsDone{RunID: "run-1", Job: "points", Schedule: "daily",
		VMUUID: repotest.VMA, Backups: []events.RemoteBackup{{Remote: "store", BackupID: ids[3]}}})
	if err != nil {
		t.Fatalf("Points = %v; want the prune's record returned", err)
	}
	if pruned := payloads[events.PruneCompleted](t, outs); len(pruned) != 1 || len(pruned[0].Deleted) != 1 {
		t.Fatalf("prune.completed = %+v, want the one deleted point", pruned)
	}
	if due, err := rp.GCDue(context.Background()); err != nil || !due {
		t.Fatalf("due after the stopped GC = %v, %v; want true", due, err)
	}
}

// TestPointsPruneGoesOnPastOneItCannotDelete: a restore point whose manifest
// cannot be deleted is named in prune.failed, but does not stop the prune:
// the other points beyond the depth are still deleted, and the GC at the
// run's end collects their chunks while the stuck point, still listed, reads
// back whole.
func TestPointsPruneGoesOnPastOneItCannotDelete(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 1, "dir")
	rp := repotest.Init(t, w.remotes["store"], repo.Key{})
	ids := writePoints(t, rp, 6)
	stuck := repo.Point{VM: repotest.VMA, Time: repotest.T0.Add(24 * time.Hour)}
	w.remotes["store"] = &faultyRemote{Remote: w.remotes["store"], undeletable: repo.Root + "/vms/" + stuck.String() + ".json"}
	p := w.newPruner(prune.Options{SweepEvery: -1, GCGrace: -1})
	outs, err := p.Points(ctx, "trigger-1", pointsDone(ids[5]))
	if err != nil || len(outs) != 1 {
		t.Fatalf("Points = %d outs, %v", len(outs), err)
	}
	f := decodeOut[events.PruneFailed](t, outs[0])
	if !strings.Contains(f.Error, stuck.String()) || !strings.Contains(f.Error, "permission denied") {
		t.Errorf("prune.failed %q does not name the point it could not delete", f.Error)
	}
	if got, want := deletedIDs(f.Deleted), []string{ids[0], ids[2]}; !slices.Equal(got, want) {
		t.Errorf("deleted %v, want %v (oldest first, past the stuck one)", got, want)
	}
	if gcs := collectAfterRun(t, p, "run-1"); len(gcs) != 1 || gcs[0].Deferred || gcs[0].ChunksSwept != 6 {
		t.Fatalf("gc at the run's end = %+v, want the 6 chunks of the 2 deleted points swept", gcs)
	}
	points, err := rp.List(ctx, repotest.VMA)
	if err != nil || len(points) != 4 || points[0].Point != stuck {
		t.Fatalf("points left: %v, %v; want the stuck one and the 3 newest", points, err)
	}
	if img, err := repotest.ReadDisk(t, rp, stuck); err != nil || repotest.Sum(img) != repotest.Sum(repotest.DiskImage(101, 6*repotest.ChunkSize)) {
		t.Fatalf("the stuck point after gc: %v", err)
	}
	if rep, err := rp.Verify(ctx, repo.VerifyOptions{Deep: true}); err != nil || rep.Err() != nil {
		t.Fatalf("verify after gc: %v %v", err, rep.Err())
	}
}
