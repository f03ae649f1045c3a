package export_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/export"
	"xbr/shared/catalog/catalogtest"
	"xbr/shared/remote"
	"xbr/shared/remote/dir"
)

// takeoverOnCommit is a directory remote on which Xen Orchestra takes the VM
// folder's lock over right after xbr's .json of the VM is committed: between
// the backup's commit and the refresh of XO's cache.json.gz.
type takeoverOnCommit struct {
	*dir.Dir
	prefix, lock string
	once         sync.Once
	at           time.Time
}

func (r *takeoverOnCommit) Create(ctx context.Context, key string, size int64) (remote.Upload, error) {
	u, err := r.Dir.Create(ctx, key, size)
	if err != nil || !strings.HasPrefix(key, r.prefix) || !strings.HasSuffix(key, ".json") {
		return u, err
	}
	return &takeoverUpload{Upload: u, r: r}, nil
}

type takeoverUpload struct {
	remote.Upload
	r *takeoverOnCommit
}

func (u *takeoverUpload) Commit(ctx context.Context) error {
	err := u.Upload.Commit(ctx)
	if err == nil {
		u.r.once.Do(func() { // XO removes xbr's lock, which it judged stale, and makes its own
			u.r.at = time.Now()
			_ = os.Remove(u.r.lock)
			_ = os.Mkdir(u.r.lock, 0o755)
		})
	}
	return err
}

// TestExportLeavesXOsCacheAloneAfterLosingTheLock: the backup is committed,
// then Xen Orchestra takes the VM folder's lock over before xbr refreshes
// XO's cache.json.gz. The folder is XO's from then on: xbr must not write
// XO's cache there (XO's backup or cleanVm may be writing it), and the
// backup, committed whole, is still reported.
func TestExportLeavesXOsCacheAloneAfterLosingTheLock(t *testing.T) {
	e := newEnv(t, 1, fmt.Sprintf(oneVMJob, "nightly", "local", "gzip", "none", 0), false)
	req := startRun(t, e, "nightly", "run-cache")
	d := e.remotes["local"].(*dir.Dir)
	root := d.Root()
	r := &takeoverOnCommit{Dir: d, prefix: "xo-vm-backups/" + req.VMUUID + "/",
		lock: filepath.Join(root, "xo-vm-backups", req.VMUUID+".lock")}
	e.remotes["local"] = r
	catalogtest.WriteXOCache(t, d, req.VMUUID) // XO's cache of the folder, which xbr keeps true while it holds the lock
	outs, err := export.NewWorker(e.deps).Handle(context.Background(), requested(t, req, 1))
	if err != nil || len(outs) != 1 || outs[0].Event.Type() != string(events.TypeExportCompleted) {
		t.Fatalf("outcome: %d events, %v; want export.completed (the backup was committed whole)", len(outs), err)
	}
	if r.at.IsZero() {
		t.Fatal("the .json was never committed")
	}
	cache := filepath.Join(root, "xo-vm-backups", req.VMUUID, "cache.json.gz")
	if fi, err := os.Stat(cache); err == nil && !fi.ModTime().Before(r.at) {
		t.Fatalf("after XO took the VM folder's lock over, xbr wrote XO's cache.json.gz there (at %s, lock lost at %s)",
			fi.ModTime().Format(time.RFC3339Nano), r.at.Format(time.RFC3339Nano))
	}
}
