package verify_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/verify"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/config"
	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/xva"
)

const vmUUID = "2f9c1111-2222-4333-8444-555566667777"

type remotes map[string]remote.Remote

func (r remotes) Get(_ context.Context, name string) (remote.Remote, error) { return r[name], nil }

// putBackup writes a small plain XVA (one 3 MiB disk) and its metadata.
func putBackup(t *testing.T, d *dir.Dir, at time.Time) catalog.ID {
	t.Helper()
	ctx := context.Background()
	id, err := catalog.NewID(d.Name(), vmUUID, at)
	must(t, err)
	h := &xva.Header{Version: xva.Version{ExportVsn: 2}, Objects: []xva.Object{
		{Class: "VM", ID: "Ref:0", Snapshot: map[string]any{"uuid": vmUUID, "VBDs": []any{"Ref:1"}}},
		{Class: "VBD", ID: "Ref:1", Snapshot: map[string]any{"VM": "Ref:0", "VDI": "Ref:2", "type": "Disk"}},
		{Class: "VDI", ID: "Ref:2", Snapshot: map[string]any{"SR": "Ref:3", "VBDs": []any{"Ref:1"}, "virtual_size": int64(3 << 20)}},
		{Class: "SR", ID: "Ref:3", Snapshot: map[string]any{"content_type": "user", "VDIs": []any{"Ref:2"}}}}}
	ova, err := h.MarshalOVA()
	must(t, err)
	up, err := d.Create(ctx, id.DataKey(), -1)
	must(t, err)
	sum := sha256.New()
	w := xva.NewWriter(io.MultiWriter(up, sum), xva.WriterOptions{})
	must(t, w.WriteOVA(ova))
	must(t, w.WriteDisk("Ref:2", 3<<20, strings.NewReader(strings.Repeat("xbr disk data\n", (3<<20)/14+1)[:3<<20])))
	must(t, w.Close())
	must(t, up.Commit(ctx))
	fi, err := os.Stat(filepath.Join(d.Root(), id.DataKey()))
	must(t, err)
	vm, _ := json.Marshal(map[string]string{"uuid": vmUUID})
	m := catalog.Metadata{JobID: "nightly", Mode: catalog.ModeFull, ScheduleID: "daily", Timestamp: at.UnixMilli(),
		Version: catalog.MetadataVersion, VM: vm, VMSnapshot: json.RawMessage(`{}`), XVA: "./" + id.Timestamp() + ".xva",
		Size: fi.Size(), Xbr: &catalog.Xbr{SHA256: hex.EncodeToString(sum.Sum(nil)), Codec: "none"}}
	b, err := m.Marshal()
	must(t, err)
	mu, err := d.Create(ctx, id.MetaKey(), int64(len(b)))
	must(t, err)
	_, err = mu.Write(b)
	must(t, err)
	must(t, mu.Commit(ctx))
	return id
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestScheduledVerification(t *testing.T) {
	d, err := dir.New("nfs", t.TempDir())
	must(t, err)
	t0 := time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC)
	good := putBackup(t, d, t0)
	bad := putBackup(t, d, t0.Add(time.Hour))
	must(t, os.Truncate(filepath.Join(d.Root(), bad.DataKey()), 4096))
	cfg := &config.Config{CatchUp: time.Hour, Jobs: []config.Job{
		{Name: "check", Mode: config.ModeVerify, Remotes: []string{"nfs"}, Deep: true},
		{Name: "nightly", Mode: config.ModeFull, Remotes: []string{"nfs"}},
	}}
	now := t0.Add(24 * time.Hour)
	h := &verify.Handler{Config: cfg, Remotes: remotes{"nfs": d}, Now: func() time.Time { return now }}
	handle := func(job, mode string, at time.Time) ([]bus.Out, error) {
		p := events.ScheduleDue{RunID: events.DeriveID(job, at.String()), Job: job, Schedule: "weekly", Mode: mode, FireTime: at}
		return h.Handle(context.Background(), bus.Event{Received: events.Received{Payload: p}})
	}
	fireStored := func(job string, at, stored time.Time) []bus.Out {
		p := events.ScheduleDue{RunID: events.DeriveID(job, at.String()), Job: job, Schedule: "weekly", Mode: config.ModeVerify, FireTime: at}
		m, err := events.Subjects{}.Message(events.Meta{ID: p.RunID, Source: "/test", Time: at}, p)
		must(t, err)
		if f := verify.Filter(events.Subjects{}); f != "xbr.schedule.due.verify.>" || m.Subject != "xbr.schedule.due.verify."+job+".weekly" {
			t.Fatalf("a verify fire on %s, the consumer reads %s", m.Subject, f)
		}
		outs, err := h.Handle(context.Background(), bus.Event{Received: events.Received{Message: m, Payload: p},
			Delivery: bus.Delivery{Attempt: 1, Stored: stored}})
		must(t, err)
		return outs
	}
	fire := func(job string, at time.Time) []bus.Out { return fireStored(job, at, time.Time{}) }
	if _, err := handle("nightly", config.ModeFull, now); !bus.IsPermanent(err) || !strings.Contains(err.Error(), `reached verify`) {
		t.Fatalf("a full job's fire: %v, want a permanent error saying it reached verify", err)
	}
	if outs, err := handle("nightly", "", now); err != nil || len(outs) != 0 {
		t.Fatalf("a full job's fire from before the mode subject: %d events, %v; want it left alone", len(outs), err)
	}
	// A fire that waited in the stream beyond catch-up (verify was down) is
	// skipped, and its run says so; one the timer caught up just now, near
	// the window's edge, runs.
	if outs := fireStored("check", now.Add(-2*time.Hour), now.Add(-2*time.Hour)); len(outs) != 1 {
		t.Fatalf("a fire that waited beyond catch-up produced %d events, want run.completed", len(outs))
	} else if r, err := events.Decode(outs[0].Subject, encodeHeaders(t, outs[0]), outs[0].Event.Data()); err != nil {
		t.Fatal(err)
	} else if done, _ := events.PayloadAs[events.RunCompleted](r); done.Status != events.StatusSkipped || !strings.Contains(done.Reason, "catch_up") {
		t.Fatalf("a fire that waited beyond catch-up: %+v, want run.completed skipped, naming catch_up", done)
	}
	if outs := fireStored("check", now.Add(-61*time.Minute), now.Add(-2*time.Minute)); len(outs) != 3 {
		t.Fatalf("a fire the timer caught up 59 min late, handled 2 min later: %d events, want it verified", len(outs))
	}
	outs := fire("check", now)
	if len(outs) != 3 {
		t.Fatalf("%d events, want 2 verify results and run.completed", len(outs))
	}
	byType := map[events.Type][]events.Received{}
	for _, o := range outs {
		r, err := events.Decode(o.Subject, encodeHeaders(t, o), o.Event.Data())
		must(t, err)
		byType[r.Type()] = append(byType[r.Type()], r)
	}
	ok, _ := events.PayloadAs[events.VerifyCompleted](byType[events.TypeVerifyCompleted][0])
	failed, _ := events.PayloadAs[events.VerifyFailed](byType[events.TypeVerifyFailed][0])
	done, _ := events.PayloadAs[events.RunCompleted](byType[events.TypeRunCompleted][0])
	if ok.BackupID != good.String() || !ok.Deep || ok.Job != "check" || ok.RunID == "" {
		t.Errorf("completed = %+v", ok)
	}
	if failed.BackupID != bad.String() || !strings.Contains(failed.Error, "truncated") {
		t.Errorf("failed = %+v", failed)
	}
	// One result per VM (both backups are of one VM): the failure wins; the
	// status still counts backups.
	if done.Status != events.StatusPartial || len(done.Results) != 1 || done.RunID != ok.RunID ||
		done.Results[0].Status != events.StatusFailure || done.Results[0].BackupID != bad.String() || done.Results[0].Size != 0 {
		t.Errorf("run.completed = %+v", done)
	}
}

func encodeHeaders(t *testing.T, o bus.Out) map[string][]string {
	h, _, err := events.Encode(o.Event)
	must(t, err)
	return h
}
