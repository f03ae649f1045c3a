package verify_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/verify"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/remote/dir"
	"xbr/shared/repo"
	"xbr/shared/repo/repotest"
	"xbr/shared/repoimage/repoimagetest"
	"xbr/shared/testsupport"
	"xbr/shared/xva"
)

// pointXVA is a plain XVA of vmUUID with one 3 MiB disk.
func pointXVA(t *testing.T) []byte {
	t.Helper()
	h := &xva.Header{Version: xva.Version{ExportVsn: 2}, Objects: []xva.Object{
		{Class: "VM", ID: "Ref:0", Snapshot: map[string]any{"uuid": vmUUID, "name_label": "web", "VBDs": []any{"Ref:1"}}},
		{Class: "VBD", ID: "Ref:1", Snapshot: map[string]any{"VM": "Ref:0", "VDI": "Ref:2", "type": "Disk"}},
		{Class: "VDI", ID: "Ref:2", Snapshot: map[string]any{"SR": "Ref:3", "VBDs": []any{"Ref:1"}, "virtual_size": int64(3 << 20)}},
		{Class: "SR", ID: "Ref:3", Snapshot: map[string]any{"content_type": "user", "VDIs": []any{"Ref:2"}}}}}
	ova, err := h.MarshalOVA()
	must(t, err)
	var buf bytes.Buffer
	w := xva.NewWriter(&buf, xva.WriterOptions{})
	must(t, w.WriteOVA(ova))
	must(t, w.WriteDisk("Ref:2", 3<<20, strings.NewReader(strings.Repeat("xbr disk data\n", (3<<20)/14+1)[:3<<20])))
	must(t, w.Close())
	return buf.Bytes()
}

// pointsWorld is a dir remote "nfs" holding a full backup at t0 and two
// restore points of the same VM, at t0+1h and t0+2h.
type pointsWorld struct {
	d     *dir.Dir
	repos *fn.Repos
	rp    *repo.Repo
	full  string
	t0    time.Time
}

func newPointsWorld(t *testing.T) pointsWorld {
	t.Helper()
	root := t.TempDir()
	d, err := dir.New("nfs", root)
	must(t, err)
	w := pointsWorld{d: d, t0: time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC)}
	w.full = putBackup(t, d, w.t0).String()
	rcfg := []config.Remote{{Name: "nfs", Type: config.RemoteDir, Path: root}}
	w.repos = fn.NewRepos(rcfg, fn.NewRemotes(rcfg, testsupport.OpenDir))
	w.rp, err = w.repos.Ensure(context.Background(), "nfs")
	must(t, err)
	data := pointXVA(t)
	repoimagetest.StorePoint(t, w.rp, vmUUID, w.t0.Add(time.Hour), bytes.NewReader(data))
	repoimagetest.StorePoint(t, w.rp, vmUUID, w.t0.Add(2*time.Hour), bytes.NewReader(data))
	return w
}

// fire runs one fire of a verify job of nfs and returns the ids of the
// backups verified sound, and the verify.failed events.
func (w pointsWorld) fire(t *testing.T, deep bool) ([]string, []events.VerifyFailed) {
	t.Helper()
	cfg := &config.Config{Jobs: []config.Job{{Name: "check", Mode: config.ModeVerify, Remotes: []string{"nfs"}, Deep: deep}}}
	now := w.t0.Add(24 * time.Hour)
	h := &verify.Handler{Config: cfg, Remotes: remotes{"nfs": w.d}, Repos: w.repos, Now: func() time.Time { return now }}
	p := events.ScheduleDue{RunID: "run-1", Job: "check", Schedule: "weekly", Mode: config.ModeVerify, FireTime: now}
	outs, err := h.Handle(context.Background(), bus.Event{Received: events.Received{Payload: p}})
	must(t, err)
	var completed []string
	var failed []events.VerifyFailed
	for _, o := range outs {
		r, err := events.Decode(o.Subject, encodeHeaders(t, o), o.Event.Data())
		must(t, err)
		switch pl := r.Payload.(type) {
		case events.VerifyCompleted:
			completed = append(completed, pl.BackupID)
		case events.VerifyFailed:
			failed = append(failed, pl)
		}
	}
	return completed, failed
}

func failedIDs(failed []events.VerifyFailed) string {
	var ids []string
	for _, f := range failed {
		ids = append(ids, f.BackupID)
	}
	return strings.Join(ids, " ")
}

// A scheduled verification checks the repository's restore points beside the
// full backups: one damaged chunk used by two points is one verify.failed per
// point, each naming the chunk.
func TestScheduledVerificationOfRestorePoints(t *testing.T) {
	w := newPointsWorld(t)
	keys := repoimagetest.ChunkKeys(t, w.rp)
	repotest.FlipByte(t, w.rp, keys[0])
	completed, failed := w.fire(t, true)
	for _, f := range failed {
		if !strings.Contains(f.Error, keys[0][len(keys[0])-64:]) || !strings.Contains(f.Error, "damaged") {
			t.Errorf("verify.failed of %s: %q does not name the damaged chunk", f.BackupID, f.Error)
		}
	}
	wantFailed := "nfs:xbr-repo/" + vmUUID + "/20260501T030000Z nfs:xbr-repo/" + vmUUID + "/20260501T040000Z"
	if len(completed) != 1 || completed[0] != w.full || failedIDs(failed) != wantFailed {
		t.Fatalf("completed %v, failed %v; want [%s] and %v", completed, failedIDs(failed), w.full, wantFailed)
	}
}

// A damaged manifest is one verify.failed for its point, naming its manifest, beside the
// results of everything else: the fire succeeds (a permanently damaged manifest, were it
// an error, would have the fire redelivered for ever).
func TestScheduledVerificationOfDamagedManifest(t *testing.T) {
	w := newPointsWorld(t)
	repotest.FlipByte(t, w.rp, "xbr-repo/vms/"+vmUUID+"/20260501T040000Z.json")
	completed, failed := w.fire(t, false)
	for _, f := range failed {
		if !strings.Contains(f.Error, "manifest") {
			t.Errorf("verify.failed of %s: %q does not name the manifest", f.BackupID, f.Error)
		}
	}
	wantCompleted := w.full + " nfs:xbr-repo/" + vmUUID + "/20260501T030000Z"
	wantFailed := "nfs:xbr-repo/" + vmUUID + "/20260501T040000Z"
	if strings.Join(completed, " ") != wantCompleted || failedIDs(failed) != wantFailed {
		t.Fatalf("completed %v, failed %v; want %s and %s", completed, failedIDs(failed), wantCompleted, wantFailed)
	}
}

// A repository that cannot be read (its config.json damaged) is retried, and
// on the fire's last delivery the run ends anyway: failed, saying why, with
// the full backups of the same remote verified beside it. Before, the fire
// went to the DLQ with no run.completed and no result at all.
func TestScheduledVerificationOfUnreadableRepository(t *testing.T) {
	w := newPointsWorld(t)
	must(t, os.WriteFile(filepath.Join(w.d.Root(), "xbr-repo", "config.json"), []byte("{damaged"), 0o600))
	cfg := &config.Config{Jobs: []config.Job{{Name: "check", Mode: config.ModeVerify, Remotes: []string{"nfs"}}}}
	now := w.t0.Add(24 * time.Hour)
	h := &verify.Handler{Config: cfg, Remotes: remotes{"nfs": w.d},
		Repos: fn.NewRepos([]config.Remote{{Name: "nfs", Type: config.RemoteDir, Path: w.d.Root()}}, fn.NewRemotes(
			[]config.Remote{{Name: "nfs", Type: config.RemoteDir, Path: w.d.Root()}}, testsupport.OpenDir)),
		Now: func() time.Time { return now }}
	p := events.ScheduleDue{RunID: "run-1", Job: "check", Schedule: "weekly", Mode: config.ModeVerify, FireTime: now}
	ev := bus.Event{Received: events.Received{Payload: p}, Delivery: bus.Delivery{Attempt: 1, Max: 3}}
	if _, err := h.Handle(context.Background(), ev); err == nil {
		t.Fatal("first delivery: no error, want a retry of the unreadable repository")
	}
	ev.Delivery.Attempt = 3
	outs, err := h.Handle(context.Background(), ev)
	must(t, err)
	var done *events.RunCompleted
	var completed []string
	for _, o := range outs {
		r, err := events.Decode(o.Subject, encodeHeaders(t, o), o.Event.Data())
		must(t, err)
		switch pl := r.Payload.(type) {
		case events.VerifyCompleted:
			completed = append(completed, pl.BackupID)
		case events.RunCompleted:
			done = &pl
		}
	}
	if done == nil || done.Status != events.StatusFailure || !strings.Contains(done.Reason, "repository") ||
		!strings.Contains(done.Reason, "nfs") {
		t.Fatalf("run.completed %+v: want a failure whose reason names the unreadable repository of nfs", done)
	}
	if len(completed) != 1 || completed[0] != w.full {
		t.Fatalf("verified %v, want the full backup %s beside the failure", completed, w.full)
	}
}
