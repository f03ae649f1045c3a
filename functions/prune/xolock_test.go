package prune_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/catalog"
	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/remotetest"
)

// xoTakesOver is a dir remote on which Xen Orchestra takes the lock of vm's
// folder over while xbr holds it, as after a stall of xbr's refresh (an NFS
// server that hung for more than 10 s): XO's proper-lockfile judges xbr's
// lock stale, removes it and makes its own. The takeover comes right after
// the after-th deletion in the folder, or as soon as xbr holds the lock
// when after is 0. From then on the folder is XO's (its backup and cleanVm
// run there); late records every change xbr still makes in it.
type xoTakesOver struct {
	*dir.Dir
	vm    string
	after int

	mu      sync.Mutex
	deletes int
	taken   bool
	late    []string
}

func (x *xoTakesOver) Lock(ctx context.Context, folder string) (remote.Held, error) {
	h, err := x.Dir.Lock(ctx, folder)
	if err == nil && x.after == 0 {
		x.mu.Lock()
		x.takeOver()
		x.mu.Unlock()
	}
	return h, err
}

func (x *xoTakesOver) Delete(ctx context.Context, key string) error {
	x.note("deleted " + key)
	err := x.Dir.Delete(ctx, key)
	if strings.HasPrefix(key, catalog.VMPrefix(x.vm)) {
		x.mu.Lock()
		if x.deletes++; x.deletes == x.after {
			x.takeOver()
		}
		x.mu.Unlock()
	}
	return err
}

func (x *xoTakesOver) Create(ctx context.Context, key string, sizeHint int64) (remote.Upload, error) {
	x.note("wrote " + key)
	return x.Dir.Create(ctx, key, sizeHint)
}

// note records a change in the VM folder after the takeover.
func (x *xoTakesOver) note(change string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.taken && strings.Contains(change, catalog.VMPrefix(x.vm)) {
		x.late = append(x.late, change)
	}
}

// takeOver does what XO's proper-lockfile does to a stale lock: rmdir, then
// mkdir of its own, whose mtime it keeps fresh (here set once, a second
// after xbr's, so that it differs from it at any file-system precision).
// The caller holds mu.
func (x *xoTakesOver) takeOver() {
	lock := filepath.Join(x.Root(), filepath.FromSlash(strings.TrimSuffix(catalog.VMPrefix(x.vm), "/")+".lock"))
	fi, err := os.Stat(lock)
	if err == nil {
		err = os.Remove(lock)
	}
	if err == nil {
		err = os.Mkdir(lock, 0o755)
	}
	if err == nil {
		at := fi.ModTime().Add(time.Second)
		err = os.Chtimes(lock, at, at)
	}
	if err != nil {
		panic("XO's takeover of the lock: " + err.Error())
	}
	x.taken = true
}

func (x *xoTakesOver) changesAfterTakeover() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.late)
}

// While a prune deletes the backups beyond the depth of one VM, XO takes
// the VM folder's lock over after the first backup is gone. The prune must
// delete nothing more there and leave XO's cache.json.gz alone (XO's backup
// and cleanVm run in that folder now), report prune.failed naming the
// remote and the VM, and still prune the VM's backups on another remote.
func TestPruneStopsInAFolderXOTookOver(t *testing.T) {
	w := newWorld(t, 1, "dir")
	vm := w.vms[0]
	store := &xoTakesOver{Dir: w.remotes["store"].(*dir.Dir), vm: vm.UUID, after: 3} // one backup: .json, .xva, .checksum
	spare, err := dir.New("spare", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w.remotes["store"], w.remotes["spare"] = store, spare
	var ids, spareIDs []catalog.ID
	for i := range 6 {
		at := t0.Add(time.Duration(i) * time.Hour)
		ids = append(ids, put(t, store, vm, "nightly", "daily", at))
		spareIDs = append(spareIDs, put(t, spare, vm, "nightly", "daily", at))
	}
	cache, err := catalog.Cache{}.Encode() // XO's cache, here out of date: a prune rewrites it
	if err != nil {
		t.Fatal(err)
	}
	remotetest.PutBytes(t, store, catalog.CacheKey(vm.UUID), cache)

	outs, err := w.pruner.Handle(context.Background(), exported(t, "run-x", vm, "nightly", "daily", ids[5], spareIDs[5]))
	if err != nil {
		t.Fatal(err)
	}
	if late := store.changesAfterTakeover(); len(late) > 0 {
		t.Errorf("after XO took the VM folder's lock over, prune went on changing the folder XO holds:\n  %s",
			strings.Join(late, "\n  "))
	}
	failed := payloads[events.PruneFailed](t, outs)
	if len(failed) != 1 || failed[0].Remote != "store" {
		t.Fatalf("prune.failed %+v, want one for remote store", failed)
	}
	for _, want := range []string{"store", vm.UUID, "Xen Orchestra"} {
		if !strings.Contains(failed[0].Error, want) {
			t.Errorf("prune.failed error %q does not name %q", failed[0].Error, want)
		}
	}
	if got, want := deletedIDs(failed[0].Deleted), []string{ids[0].String()}; !slices.Equal(got, want) {
		t.Errorf("deleted %v, want %v (before the takeover only)", got, want)
	}
	done := payloads[events.PruneCompleted](t, outs)
	if len(done) != 1 || done[0].Remote != "spare" || len(done[0].Deleted) != 3 {
		t.Errorf("prune.completed %+v, want the other remote pruned (3 deleted)", done)
	}
}

// The sweep of a data file without its .json takes the VM folder's lock;
// XO takes it over right then. The sweep must not delete in XO's folder,
// and must not wait there for XO's lock either: it reports the loss.
func TestSweepStopsInAFolderXOTookOver(t *testing.T) {
	w := newWorld(t, 1, "dir")
	w.toNow()
	vm := w.vms[0]
	store := &xoTakesOver{Dir: w.remotes["store"].(*dir.Dir), vm: vm.UUID, after: 0}
	w.remotes["store"] = store
	orphan, _ := catalog.NewID("store", vm.UUID, time.Now().Add(-time.Hour))
	remotetest.PutBytes(t, store, orphan.DataKey(), []byte("data without json"))
	remotetest.PutBytes(t, store, orphan.ChecksumKey(), []byte("checksum"))
	w.clock.Add(25 * time.Hour)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	outs, err := w.pruner.Sweep(ctx, "sweep-x", []string{"store"}, nil)
	if late := store.changesAfterTakeover(); len(late) > 0 {
		t.Errorf("after XO took the VM folder's lock over, the sweep went on changing the folder XO holds:\n  %s",
			strings.Join(late, "\n  "))
	}
	if len(outs) != 0 {
		t.Errorf("sweep reported %d removals, want none", len(outs))
	}
	if err == nil || !strings.Contains(err.Error(), "Xen Orchestra") || !strings.Contains(err.Error(), vm.UUID) {
		t.Errorf("sweep error %v, want the loss of the lock naming the VM and XO", err)
	}
	if ctx.Err() != nil {
		t.Errorf("the sweep waited for XO's lock until its deadline")
	}
}
