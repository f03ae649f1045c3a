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
	"strings"
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

// TestRefusesEncryptedXORemote: on a remote Xen Orchestra encrypts (its
// encryption.json names an algorithm), xbr's plaintext files could never be
// listed or pruned by xbr, and XO's cleanVm, unable to decrypt the .json,
// deletes them as orphans. The export fails saying why, before any snapshot
// or write; a remote whose encryption.json says "none" is backed up as usual.
func TestRefusesEncryptedXORemote(t *testing.T) {
	for _, tc := range []struct {
		algorithm string
		refused   bool
	}{{"chacha20-poly1305", true}, {"aes-256-gcm", true}, {"none", false}} {
		t.Run(tc.algorithm, func(t *testing.T) {
			e := newEnv(t, 1, fmt.Sprintf(oneVMJob, "nightly", "local", "gzip", "none", 0), false)
			req := startRun(t, e, "nightly", "run-enc")
			r := e.remotes["local"]
			remotetest.PutBytes(t, r, "encryption.json", []byte(`{"algorithm":"`+tc.algorithm+`"}`))
			outs, err := export.NewWorker(e.deps).Handle(context.Background(), requested(t, req, 1))
			if err != nil || len(outs) != 1 {
				t.Fatalf("Handle: %v %+v", err, outs)
			}
			if !tc.refused {
				if outs[0].Event.Type() != string(events.TypeExportCompleted) {
					t.Fatalf("event %s, want export.completed", outs[0].Event.Type())
				}
				e.assertBackup(r, list(t, r)[0], "nightly", "daily", "gzip")
				return
			}
			var failed events.ExportFailed
			if err := outs[0].Event.DataAs(&failed); err != nil || outs[0].Event.Type() != string(events.TypeExportFailed) {
				t.Fatalf("event %s (%v), want export.failed", outs[0].Event.Type(), err)
			}
			if !strings.Contains(failed.Error, "encrypted") || !strings.Contains(failed.Error, "local") {
				t.Errorf("export.failed error %q does not say remote local is encrypted", failed.Error)
			}
			if n := e.sim.Requests()["/export"]; n != 0 {
				t.Errorf("%d /export requests to an encrypted XO remote", n)
			}
			if snaps := e.sim.Snapshots(); len(snaps) != 0 {
				t.Errorf("snapshots taken for an encrypted XO remote: %+v", snaps)
			}
			infos, err := r.List(context.Background(), catalog.Root)
			if err != nil || len(infos) != 0 {
				t.Errorf("files written on an encrypted XO remote: %+v (%v)", infos, err)
			}
		})
	}
}
