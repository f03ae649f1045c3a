package export_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/catalog"
	"xbr/shared/remote"
	"xbr/shared/xapi/xapisim"
)

const oneVMJob = `  - name: %s
    pools: [lab]
    remotes: [%s]
    compression: %s
    xapi_compression: %s
    retries: %d
    retry_backoff: 1h
    schedules: [{name: daily, cron: "0 2 * * *", retention: 3}]
`

// TestConnectionDropRetried: XAPI cuts the /export connection mid-stream;
// the attempt cleans up (no snapshot, no listed backup, no temp file) and
// the retry succeeds.
func TestConnectionDropRetried(t *testing.T) {
	e := newEnv(t, 1, fmt.Sprintf(oneVMJob, "nightly", "local", "gzip", "none", 1), false)
	e.sim.SetFaults(xapisim.Faults{DropAfter: 512 << 10})
	var waited atomic.Int64 // the wait between attempts comes in pieces, each renewing the run's lock
	e.deps.Wait = func(ctx context.Context, d time.Duration) error {
		// Called between attempts: the failed one must have left nothing.
		waited.Add(int64(d))
		e.assertNoSnapshots()
		if bs, _, err := catalog.List(ctx, e.remotes["local"], catalog.Filter{}); err != nil || len(bs) > 0 {
			t.Errorf("after the dropped export: backups %+v (%v)", bs, err)
		}
		assertNoTemp(t, e.remotes["local"])
		e.sim.SetFaults(xapisim.Faults{})
		return nil
	}
	e.start()
	run := e.fire("nightly", "daily", fireAt)
	if done := e.runCompleted(run); done.Status != events.StatusSuccess {
		t.Fatalf("run.completed: %+v", done)
	}
	if d := time.Duration(waited.Load()); d != time.Hour {
		t.Fatalf("waited %s between attempts, want the job's retry_backoff 1h, once", d)
	}
	bs := list(t, e.remotes["local"])
	if len(bs) != 1 {
		t.Fatalf("%d backups, want 1", len(bs))
	}
	e.assertBackup(e.remotes["local"], bs[0], "nightly", "daily", "gzip")
	e.assertNoSnapshots()
	if n := e.sim.Requests()["/export"]; n != 2 {
		t.Errorf("%d /export requests, want 2", n)
	}
}

// TestRemoteFull: one of two remotes fills up. The VM fails with a clear
// reason, neither remote gets the new backup, older backups are untouched,
// no temp file or snapshot is left.
func TestRemoteFull(t *testing.T) {
	e := newEnv(t, 1, fmt.Sprintf(oneVMJob, "nightly", "local, small", "none", "none", 0), false)
	full := &fullRemote{Remote: e.remotes["small"], name: "small"}
	e.remotes["small"] = full
	e.start()
	first := e.fire("nightly", "daily", fireAt)
	if done := e.runCompleted(first); done.Status != events.StatusSuccess {
		t.Fatalf("first run: %+v", done)
	}
	older := map[string]catalog.Backup{}
	for _, name := range []string{"local", "small"} {
		bs := list(t, e.remotes[name])
		if len(bs) != 1 {
			t.Fatalf("%s: %d backups after the first run", name, len(bs))
		}
		older[name] = bs[0]
	}
	full.limit.Store(1 << 20) // from now on, at most 1 MiB fits
	second := e.fire("nightly", "daily", fireAt.Add(24*time.Hour))
	done := e.runCompleted(second)
	if done.Status != events.StatusFailure || len(done.Results) != 1 {
		t.Fatalf("second run: %+v", done)
	}
	failed := payloadsOf[events.ExportFailed](e)
	if len(failed) != 1 || !strings.Contains(failed[0].Error, "remote small") || !strings.Contains(failed[0].Error, "no space left") {
		t.Fatalf("export.failed: %+v", failed)
	}
	t.Logf("reason: %s", failed[0].Error)
	for _, name := range []string{"local", "small"} {
		bs := list(t, e.remotes[name])
		if len(bs) != 1 || bs[0].ID != older[name].ID {
			t.Errorf("%s: backups %+v, want only the older one", name, bs)
			continue
		}
		e.assertBackup(e.remotes[name], bs[0], "nightly", "daily", "none")
		assertNoTemp(t, e.remotes[name])
		if infos, err := e.remotes[name].List(context.Background(), ""); err != nil || len(infos) != 3 {
			t.Errorf("%s holds %d objects (%v), want the older .xva, .xva.checksum and .json", name, len(infos), err)
		}
	}
	e.assertNoSnapshots()
}

// fullRemote fails writes past limit bytes per upload with ENOSPC, as a full
// file system reports it (0: no limit).
type fullRemote struct {
	remote.Remote
	name  string
	limit atomic.Int64
}

func (f *fullRemote) Name() string { return f.name }

func (f *fullRemote) Create(ctx context.Context, key string, hint int64) (remote.Upload, error) {
	u, err := f.Remote.Create(ctx, key, hint)
	if err != nil {
		return nil, err
	}
	return &fullUpload{Upload: u, left: f.limit.Load(), name: f.name, key: key}, nil
}

func (f *fullRemote) ListTemp(ctx context.Context, prefix string) ([]remote.Temp, error) {
	return f.Remote.(remote.Sweeper).ListTemp(ctx, prefix)
}

func (f *fullRemote) RemoveTemp(ctx context.Context, tmp remote.Temp) error {
	return f.Remote.(remote.Sweeper).RemoveTemp(ctx, tmp)
}

type fullUpload struct {
	remote.Upload
	left      int64
	name, key string
}

func (u *fullUpload) Write(p []byte) (int, error) {
	if u.left > 0 && int64(len(p)) > u.left {
		n, _ := u.Upload.Write(p[:u.left])
		u.left = -1
		return n, fmt.Errorf("remote %s: write %s: %w: %w", u.name, u.key, remote.ErrNoSpace, syscall.ENOSPC)
	}
	if u.left < 0 {
		return 0, fmt.Errorf("remote %s: write %s: %w", u.name, u.key, remote.ErrNoSpace)
	}
	if u.left > 0 {
		u.left -= int64(len(p))
		if u.left == 0 {
			u.left = -1 // exactly full: the next write fails (0 means no limit)
		}
	}
	return u.Upload.Write(p)
}
