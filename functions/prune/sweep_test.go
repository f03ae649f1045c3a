package prune_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/prune"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/remotetest"
	"xbr/shared/testsupport"
	"xbr/shared/xotag"
)

// toNow moves the world's clock to the wall clock, which file times follow.
func (w *world) toNow() { w.clock.Add(time.Now().Truncate(time.Second).Sub(w.clock.Now())) }

func age(t *testing.T, root, rel string, d time.Duration) {
	t.Helper()
	old := time.Now().Add(-d)
	if err := os.Chtimes(filepath.Join(root, filepath.FromSlash(rel)), old, old); err != nil {
		t.Fatal(err)
	}
}

func sweptIDs(t *testing.T, outs []bus.Out) []string {
	t.Helper()
	var ids []string
	for _, p := range payloads[events.PruneCompleted](t, outs) {
		if p.Job != prune.SweepJob || p.Schedule != prune.SweepJob || len(p.Deleted) != 1 ||
			!strings.HasPrefix(p.Deleted[0].Reason, "sweep: ") {
			t.Errorf("sweep event %+v", p)
			continue
		}
		ids = append(ids, p.Deleted[0].ID)
	}
	slices.Sort(ids)
	return ids
}

// The sweep removes old temp files, old data files without a .json and old
// snapshots still carrying the temporary name (with their disks), keeps the
// fresh ones and every committed backup or stamped snapshot, and reports
// each removal as an event.
func TestSweepDirAndPool(t *testing.T) {
	w := newWorld(t, 1, "dir")
	w.toNow()
	ctx := context.Background()
	d, vm := w.remotes["store"].(*dir.Dir), w.vms[0]
	day := 24 * time.Hour
	oldBackup := put(t, d, vm, "nightly", "daily", time.Now().Add(-3*day))
	for _, k := range []string{oldBackup.MetaKey(), oldBackup.DataKey(), oldBackup.ChecksumKey()} {
		age(t, d.Root(), k, 3*day)
	}
	oldOrphan, _ := catalog.NewID("store", vm.UUID, time.Now().Add(-2*day))
	freshOrphan, _ := catalog.NewID("store", vm.UUID, time.Now().Add(-time.Hour))
	for _, k := range []string{oldOrphan.DataKey(), oldOrphan.ChecksumKey(), freshOrphan.DataKey()} {
		remotetest.PutBytes(t, d, k, []byte("data without json"))
	}
	age(t, d.Root(), oldOrphan.DataKey(), 2*day)
	age(t, d.Root(), oldOrphan.ChecksumKey(), 2*day)
	oldTemp := unfinished(t, d, catalog.VMPrefix(vm.UUID)+"20260101T000000Z.xva")
	unfinished(t, d, catalog.VMPrefix(vm.UUID)+"20260102T000000Z.xva")
	temps, err := d.ListTemp(ctx, catalog.Root)
	if err != nil || len(temps) != 2 {
		t.Fatalf("temps %v, %v", temps, err)
	}
	for _, tmp := range temps {
		if tmp.Key == oldTemp {
			age(t, d.Root(), tmp.ID, 2*day)
		}
	}
	// Snapshots: an old temporary one, a fresh temporary one, an old stamped one.
	vmr := vmRef(vm)
	w.clock.Add(-2 * day)
	oldSnap, err := w.client.Snapshot(ctx, vmr, xotag.TempSnapshotName, nil)
	if err != nil {
		t.Fatal(err)
	}
	stamped, err := w.client.Snapshot(ctx, vmr, "[XO Backup snap] "+vm.NameLabel, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Add(2*day - time.Hour)
	if _, err := w.client.Snapshot(ctx, vmr, xotag.TempSnapshotName, nil); err != nil {
		t.Fatal(err)
	}
	w.clock.Add(time.Hour)
	oldSnapRec, _ := w.client.VMRecord(ctx, oldSnap)
	oldSnapDisks := len(w.sim.Refs("VDI"))

	outs, err := w.pruner.Sweep(ctx, "sweep-test", []string{"store"}, []string{"lab"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{oldOrphan.ChecksumKey(), oldOrphan.DataKey(), oldTemp, oldSnapRec.UUID}
	slices.Sort(want)
	if got := sweptIDs(t, outs); !slices.Equal(got, want) {
		t.Errorf("swept %v, want %v", got, want)
	}
	left := keys(t, d, catalog.Root)
	for _, k := range []string{oldBackup.MetaKey(), oldBackup.DataKey(), oldBackup.ChecksumKey(), freshOrphan.DataKey()} {
		if !slices.Contains(left, k) {
			t.Errorf("%s was removed", k)
		}
	}
	if temps, _ := d.ListTemp(ctx, catalog.Root); len(temps) != 1 || temps[0].Key == oldTemp {
		t.Errorf("temp files left: %v", temps)
	}
	var names []string
	for _, s := range w.snapshotsOf(vm) {
		names = append(names, s.NameLabel)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"[XO Backup snap] " + vm.NameLabel, xotag.TempSnapshotName}) {
		t.Errorf("snapshots left: %v", names)
	}
	if _, err := w.client.VMRecord(ctx, stamped); err != nil {
		t.Errorf("stamped snapshot destroyed: %v", err)
	}
	if got := len(w.sim.Refs("VDI")); got != oldSnapDisks-2 {
		t.Errorf("%d VDIs after the sweep, want %d (the temp snapshot's 2 disks destroyed)", got, oldSnapDisks-2)
	}
	again, err := w.pruner.Sweep(ctx, "sweep-test-2", []string{"store"}, []string{"lab"})
	if err != nil || len(again) != 0 {
		t.Errorf("a second sweep removed %d more (err %v)", len(again), err)
	}
}

// unfinished starts an upload of key and leaves it uncommitted, as a
// crashed writer does; it returns the key.
func unfinished(t *testing.T, r remote.Remote, key string) string {
	t.Helper()
	u, err := r.Create(context.Background(), key, 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write([]byte("partial")); err != nil {
		t.Fatal(err)
	}
	return key
}

// On the S3 gateway a data file without its .json is kept while fresh and
// removed once older than the threshold.
func TestSweepS3Orphans(t *testing.T) {
	w := newWorld(t, 1, "s3")
	w.toNow()
	r, vm := w.remotes["store"], w.vms[0]
	backup := put(t, r, vm, "nightly", "daily", time.Now().Add(-time.Hour))
	orphan, _ := catalog.NewID("store", vm.UUID, time.Now())
	remotetest.PutBytes(t, r, orphan.DataKey(), []byte("no json"))
	outs, err := w.pruner.Sweep(context.Background(), "s", []string{"store"}, nil)
	if err != nil || len(outs) != 0 {
		t.Fatalf("fresh orphan swept: %d events, %v", len(outs), err)
	}
	w.clock.Add(25 * time.Hour)
	outs, err = w.pruner.Sweep(context.Background(), "s", []string{"store"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := sweptIDs(t, outs); !slices.Equal(got, []string{orphan.DataKey()}) {
		t.Errorf("swept %v", got)
	}
	if got := listed(t, r, vm.UUID, "nightly", "daily"); !slices.Equal(got, []string{backup.String()}) {
		t.Errorf("listed %v after the sweep", got)
	}
}

// failingData is a remote whose deletes of data files fail: a prune stopped
// half-way through a backup.
type failingData struct{ remote.Remote }

func (f failingData) Delete(ctx context.Context, key string) error {
	if strings.HasSuffix(key, catalog.DataSuffix) {
		return errors.New("injected: delete failed")
	}
	return f.Remote.Delete(ctx, key)
}

// A prune that stops after a backup's .json leaves it unlisted (never half
// listed) and reports prune.failed; the sweep removes its data later.
func TestHalfDeletedBackupIsNeverListed(t *testing.T) {
	w := newWorld(t, 1, "dir")
	w.toNow()
	r, vm := w.remotes["store"], w.vms[0]
	var ids []catalog.ID
	for i := range 4 {
		ids = append(ids, put(t, r, vm, "nightly", "daily", time.Now().Add(time.Duration(i-4)*time.Hour)))
	}
	w.remotes["store"] = failingData{r}
	outs, err := w.pruner.Handle(context.Background(), exported(t, "run-h", vm, "nightly", "daily", ids[3]))
	if err != nil {
		t.Fatal(err)
	}
	if failed := payloads[events.PruneFailed](t, outs); len(failed) != 1 || !strings.Contains(failed[0].Error, "injected") {
		t.Fatalf("outs %+v", failed)
	}
	got := listed(t, r, vm.UUID, "nightly", "daily")
	if want := []string{ids[3].String(), ids[2].String(), ids[1].String()}; !slices.Equal(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
	w.remotes["store"] = r
	w.clock.Add(25 * time.Hour)
	swept, err := w.pruner.Sweep(context.Background(), "s", []string{"store"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := sweptIDs(t, swept); !slices.Equal(got, []string{ids[0].DataKey()}) {
		t.Errorf("swept %v, want the half-deleted backup's data", got)
	}
}

// The periodic sweep publishes its events on the bus.
func TestSweepEveryPublishes(t *testing.T) {
	w := newWorld(t, 1, "dir")
	conn := testsupport.StartNATS(t)
	w.toNow()
	r, vm := w.remotes["store"], w.vms[0]
	orphan, _ := catalog.NewID("store", vm.UUID, time.Now())
	remotetest.PutBytes(t, r, orphan.DataKey(), []byte("no json"))
	w.clock.Add(25 * time.Hour)
	p := w.newPruner(prune.Options{SweepEvery: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.SweepEvery(ctx, conn) }()
	t.Cleanup(func() { cancel(); <-done })
	watch, err := conn.Watch(ctx, bus.WatchOptions{Subjects: []string{events.Subjects{}.Filter(events.TypePruneCompleted)}})
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	rec, err := watch.Next(wctx)
	if err != nil {
		t.Fatal(err)
	}
	pc, ok := rec.Event.Payload.(events.PruneCompleted)
	if !ok || len(pc.Deleted) != 1 || pc.Deleted[0].ID != orphan.DataKey() || pc.VMUUID != vm.UUID {
		t.Errorf("published %+v", rec.Event.Payload)
	}
}

// The sweep removes a claim of a backup time (catalog.Claim) that a crashed
// export left, once older than the threshold, reports it under its VM, and
// keeps a fresh claim (an export under way) and files it does not know.
func TestSweepClaims(t *testing.T) {
	w := newWorld(t, 1, "dir")
	w.toNow()
	ctx := context.Background()
	d, vm := w.remotes["store"].(*dir.Dir), w.vms[0]
	old, _ := catalog.NewID("store", vm.UUID, time.Now().Add(-2*24*time.Hour))
	fresh, _ := catalog.NewID("store", vm.UUID, time.Now())
	for _, id := range []catalog.ID{old, fresh} {
		if err := catalog.Claim(ctx, d, id, "run-x"); err != nil {
			t.Fatal(err)
		}
	}
	foreign := catalog.ClaimsFolder + "notes.txt"
	remotetest.PutBytes(t, d, foreign, []byte("not a claim"))
	age(t, d.Root(), old.ClaimKey(), 2*24*time.Hour)
	age(t, d.Root(), foreign, 2*24*time.Hour)
	outs, err := w.pruner.Sweep(ctx, "sweep-test", []string{"store"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := sweptIDs(t, outs); !slices.Equal(got, []string{old.ClaimKey()}) {
		t.Errorf("swept %v, want %v", got, []string{old.ClaimKey()})
	}
	if ps := payloads[events.PruneCompleted](t, outs); len(ps) != 1 || ps[0].VMUUID != vm.UUID {
		t.Errorf("sweep events %+v, want one for vm %s", ps, vm.UUID)
	}
	if left := keys(t, d, catalog.ClaimsFolder); !slices.Equal(left, []string{fresh.ClaimKey(), foreign}) {
		t.Errorf("left %v", left)
	}
}
