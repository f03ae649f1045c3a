package export_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/export"
	"xbr/shared/catalog"
	"xbr/shared/catalog/catalogtest"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/remotetest"
)

// TestHonoursXOLock: while Xen Orchestra holds a VM folder's lock (the
// folder <vm>.lock, kept fresh), the export of that VM writes nothing there
// and takes no snapshot; once XO releases it, the export runs and releases
// the lock it took the same way.
func TestHonoursXOLock(t *testing.T) {
	e := newEnv(t, 1, fmt.Sprintf(oneVMJob, "nightly", "local", "gzip", "none", 0), false)
	req := startRun(t, e, "nightly", "run-lock")
	root := e.remotes["local"].(*dir.Dir).Root()
	lock := filepath.Join(root, "xo-vm-backups", req.VMUUID+".lock")
	if err := os.MkdirAll(lock, 0o755); err != nil { // XO's proper-lockfile takes it with mkdir
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	outs, err := export.NewWorker(e.deps).Handle(ctx, requested(t, req, 1))
	if err == nil && len(outs) == 1 && outs[0].Event.Type() == string(events.TypeExportCompleted) {
		t.Fatal("the export completed while XO held the VM folder's lock")
	}
	if n := e.sim.Requests()["/export"]; n != 0 {
		t.Errorf("%d /export requests while XO held the lock", n)
	}
	if snaps := e.sim.Snapshots(); len(snaps) != 0 {
		t.Errorf("snapshots taken while XO held the lock: %+v", snaps)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "xo-vm-backups", req.VMUUID)); len(entries) != 0 {
		t.Errorf("files written in the VM folder while XO held the lock: %v", entries)
	}
	if err := os.Remove(lock); err != nil { // XO's job ends
		t.Fatal(err)
	}
	outs, err = export.NewWorker(e.deps).Handle(context.Background(), requested(t, req, 2))
	if err != nil || len(outs) != 1 || outs[0].Event.Type() != string(events.TypeExportCompleted) {
		t.Fatalf("after XO released the lock: %v %+v", err, outs)
	}
	if _, err := os.Stat(lock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("xbr's lock not released: %v", err)
	}
	e.assertBackup(e.remotes["local"], list(t, e.remotes["local"])[0], "nightly", "daily", "gzip")
}

// TestRedeliveryRefreshesXOCache: a worker that died after committing the
// .json but before refreshing XO's cache.json.gz left XO blind to the
// backup; the redelivered request, finding the backup committed, refreshes
// the cache.
func TestRedeliveryRefreshesXOCache(t *testing.T) {
	e := newEnv(t, 1, fmt.Sprintf(oneVMJob, "nightly", "local", "gzip", "none", 0), false)
	req := startRun(t, e, "nightly", "run-cache")
	r := e.remotes["local"]
	w := export.NewWorker(e.deps)
	if _, err := w.Handle(context.Background(), requested(t, req, 1)); err != nil {
		t.Fatal(err)
	}
	var empty bytes.Buffer
	zw := gzip.NewWriter(&empty)
	_, _ = zw.Write([]byte("{}"))
	_ = zw.Close()
	remotetest.PutBytes(t, r, catalog.CacheKey(req.VMUUID), empty.Bytes()) // XO's cache, not yet refreshed
	if _, err := w.Handle(context.Background(), requested(t, req, 2)); err != nil {
		t.Fatal(err)
	}
	xo, disk := catalogtest.XOListing(t, r, req.VMUUID), catalogtest.MetadataOnDisk(t, r, req.VMUUID)
	if len(disk) != 1 || !slices.Equal(xo, disk) {
		t.Errorf("XO lists %v, the disk holds %v", xo, disk)
	}
}
