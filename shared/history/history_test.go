package history_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/history"
	"xbr/shared/testsupport"
)

func project(now time.Time, evs ...[]events.Received) *history.Projection {
	p := history.New(history.Options{Now: func() time.Time { return now }})
	for _, list := range evs {
		for _, e := range list {
			p.Apply(e)
		}
	}
	return p
}

func find(t *testing.T, parent *history.Task, id string) *history.Task {
	t.Helper()
	for _, c := range parent.Tasks {
		if c.ID == id {
			return c
		}
	}
	t.Fatalf("task %s has no child %q (children: %d)", parent.ID, id, len(parent.Tasks))
	return nil
}

func TestRunTree(t *testing.T) {
	p := project(t0.Add(time.Hour), build(t, backupRun()))
	r, ok := p.Run(run1)
	if !ok {
		t.Fatal("run not found")
	}
	if r.Status != history.StatusPartial || r.Job != "nightly" || r.Schedule != "daily" || r.Mode != "full" || r.DurationMS != 21000 {
		t.Errorf("run = %s job %s/%s mode %s %dms", r.Status, r.Job, r.Schedule, r.Mode, r.DurationMS)
	}
	if !r.Start.Equal(t0) || !r.End.Equal(t0.Add(21*time.Second)) || r.Size != 200<<20 {
		t.Errorf("run start %v end %v size %d", r.Start, r.End, r.Size)
	}
	a := find(t, &r.Task, vmA)
	if a.Status != history.StatusSuccess || a.VMName != "web-1" || a.Size != 200<<20 {
		t.Errorf("VM A = %+v", a)
	}
	if s := find(t, a, history.KindSnapshot); s.Status != history.StatusSuccess || s.Result != snap {
		t.Errorf("snapshot = %+v", s)
	}
	x := find(t, a, history.KindExport)
	if x.Status != history.StatusSuccess || x.DurationMS != 12000 || x.Size != 200<<20 || x.Result != "sha256:"+sha {
		t.Errorf("export = %+v", x)
	}
	for _, remote := range []string{"nfs", "gw"} {
		tr := find(t, x, "transfer:"+remote)
		if tr.Status != history.StatusSuccess || tr.Remote != remote || tr.BackupID != remote+":"+vmA+"/20261129T010002Z" {
			t.Errorf("transfer %s = %+v", remote, tr)
		}
	}
	pr := find(t, a, "prune:backups:nfs")
	if pr.Status != history.StatusSuccess || !strings.Contains(pr.Result, "deleted 1") || !strings.Contains(pr.Result, "20261128T010002Z") {
		t.Errorf("prune = %+v", pr)
	}
	b := find(t, &r.Task, vmB)
	if b.Status != history.StatusFailure || !strings.Contains(b.Error, "no space left") {
		t.Errorf("VM B = %+v", b)
	}
	bx := find(t, b, history.KindExport)
	if bx.Status != history.StatusFailure || bx.Attempts != 2 || bx.Error == "" {
		t.Errorf("VM B export = %+v", bx)
	}
	for _, tr := range bx.Tasks {
		if tr.Status != history.StatusFailure {
			t.Errorf("VM B transfer %s = %s, want failure", tr.Remote, tr.Status)
		}
	}
	rates := p.Rates(run1)
	if len(rates) != 2 || rates[0].Bytes != 100<<20 || rates[1].BytesPerSecond != 40<<20 || !rates[0].Time.Before(rates[1].Time) {
		t.Errorf("rates = %+v", rates)
	}
}

func TestSkippedRun(t *testing.T) {
	p := project(t0.Add(2*time.Hour), build(t, skippedRun()))
	r, ok := p.Run(run2)
	if !ok || r.Status != history.StatusSkipped || r.Reason != "already running (run "+run1+")" || len(r.Tasks) != 0 {
		t.Fatalf("skipped run = %+v", r)
	}
	var out bytes.Buffer
	if err := history.WriteText(&out, []history.Run{r}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "SKIPPED") || !strings.Contains(out.String(), "reason: already running") {
		t.Errorf("text:\n%s", out.String())
	}
}

// killed is a run whose process died while VM A was streaming.
func killed() []stamped {
	full := backupRun()
	return full[:5] // due, started, export.started, 2 progress (last at +12s)
}

func TestInterruptedWhenStale(t *testing.T) {
	evs := build(t, killed())
	tests := []struct {
		name string
		now  time.Duration
		want string
	}{
		{"still streaming", 12*time.Second + 29*time.Minute, history.StatusPending},
		{"quiet past the threshold", 12*time.Second + 31*time.Minute, history.StatusInterrupted},
		{"replayed a day later", 24 * time.Hour, history.StatusInterrupted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := project(t0.Add(tc.now), evs).Run(run1)
			if r.Status != tc.want {
				t.Fatalf("status %s, want %s", r.Status, tc.want)
			}
			if tc.want != history.StatusInterrupted {
				return
			}
			if !strings.Contains(r.Reason, "no event since 2026-11-29T01:00:12Z") {
				t.Errorf("reason %q", r.Reason)
			}
			a := find(t, &r.Task, vmA)
			x := find(t, a, history.KindExport)
			if a.Status != history.StatusInterrupted || x.Status != history.StatusInterrupted || find(t, x, "transfer:nfs").Status != history.StatusInterrupted {
				t.Errorf("VM %s export %s", a.Status, x.Status)
			}
			if find(t, a, history.KindSnapshot).Status != history.StatusSuccess {
				t.Error("the finished snapshot must stay success")
			}
		})
	}
}

func TestInterruptedByTakeover(t *testing.T) {
	list := append(killed(), stamped{2 * time.Hour, events.RunCompleted{RunID: run1, Job: "nightly", Schedule: "daily",
		Status: events.StatusInterrupted, Reason: "lock not renewed for 30m0s", Results: []events.VMResult{
			{VMUUID: vmA, Status: events.StatusInterrupted}, {VMUUID: vmB, Status: events.StatusInterrupted}}}})
	r, _ := project(t0.Add(2*time.Hour), build(t, list)).Run(run1)
	if r.Status != history.StatusInterrupted || r.Reason != "lock not renewed for 30m0s" {
		t.Fatalf("run %s %q", r.Status, r.Reason)
	}
	for _, id := range []string{vmA, vmB} {
		if s := find(t, &r.Task, id).Status; s != history.StatusInterrupted {
			t.Errorf("VM %s: %s", id, s)
		}
	}
}

// TestOrderAndDuplicates: progress events may interleave differently with
// lifecycle events (two streams), and an event may be delivered twice.
func TestOrderAndDuplicates(t *testing.T) {
	evs := append(build(t, backupRun()), build(t, skippedRun())...)
	now := t0.Add(3 * time.Hour)
	want := project(now, evs)
	var life, prog []events.Received
	for _, e := range evs {
		if e.Type().IsProgress() {
			prog = append(prog, e)
		} else {
			life = append(life, e)
		}
	}
	got := project(now, prog, life, life[:3], prog)
	assertSame(t, want, got, run1)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5 { // progress anywhere among the lifecycle events
		mixed := append([]events.Received(nil), life...)
		for _, e := range prog {
			i := rng.IntN(len(mixed) + 1)
			mixed = append(mixed[:i], append([]events.Received{e}, mixed[i:]...)...)
		}
		assertSame(t, want, project(now, mixed), run1)
	}
}

func assertSame(t *testing.T, want, got *history.Projection, rateRun string) {
	t.Helper()
	if w, g := want.Runs(), got.Runs(); !reflect.DeepEqual(w, g) {
		wj, _ := json.MarshalIndent(w, "", " ")
		gj, _ := json.MarshalIndent(g, "", " ")
		t.Fatalf("runs differ:\nwant %s\ngot  %s", wj, gj)
	}
	if w, g := want.Rates(rateRun), got.Rates(rateRun); !reflect.DeepEqual(w, g) {
		t.Fatalf("rates differ:\nwant %+v\ngot  %+v", w, g)
	}
}

// TestRebuildEqualsLive publishes runs on a real JetStream, follows them
// live, then rebuilds an empty projection from the streams.
func TestRebuildEqualsLive(t *testing.T) {
	conn := testsupport.StartNATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	now := func() time.Time { return t0.Add(3 * time.Hour) }
	live := history.New(history.Options{Now: now})
	done := make(chan error, 1)
	go func() { done <- history.Follow(ctx, conn, events.StreamNames{}, live) }()
	all := append(build(t, backupRun()), build(t, skippedRun())...)
	all = append(all, build(t, []stamped{{2 * time.Hour, events.ScheduleDue{RunID: "4e1d3c2b5a69788796a5b4c3d2e1f003", Job: "weekly", Schedule: "sun", Mode: events.ModeFull, FireTime: t0.Add(2 * time.Hour)}}})...)
	for _, e := range all {
		if _, err := conn.Publish(ctx, e.Subject, e.Event); err != nil {
			t.Fatal(err)
		}
	}
	testsupport.Eventually(t, 10*time.Second, "the live projection to see every run", func() bool {
		r, ok := live.Run(run2)
		return len(live.Runs()) == 3 && ok && r.Status == history.StatusSkipped && len(live.Rates(run1)) == 2
	})
	rebuilt := history.New(history.Options{Now: now})
	if err := history.Load(ctx, conn, events.StreamNames{}, rebuilt); err != nil {
		t.Fatal(err)
	}
	assertSame(t, live, rebuilt, run1)
	runs := rebuilt.Runs()
	if runs[0].Status != history.StatusInterrupted || runs[0].Job != "weekly" {
		t.Errorf("newest run = %s %s, want the weekly fire with no run (interrupted)", runs[0].Job, runs[0].Status)
	}
	if len(history.Filter(runs, "nightly", "")) != 2 || len(history.Filter(runs, "", run1)) != 1 {
		t.Error("Filter by job or run id")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Follow: %v", err)
	}
}

func TestLoadEmptyStreams(t *testing.T) {
	conn := testsupport.StartNATS(t)
	p := history.New(history.Options{})
	if err := history.Load(context.Background(), conn, events.StreamNames{}, p); err != nil {
		t.Fatal(err)
	}
	if len(p.Runs()) != 0 {
		t.Fatal("runs from empty streams")
	}
	if err := history.Load(context.Background(), conn, events.StreamNames{Events: "NOPE"}, p); err == nil {
		t.Fatal("Load of a missing stream succeeded")
	}
}

// TestVMNamesFromOtherRuns: a verify run's events carry no VM names; its VMs
// are named as the other runs in the history name them, and a VM no run names
// keeps its uuid alone.
func TestVMNamesFromOtherRuns(t *testing.T) {
	const verifyRun = "4e1d3c2b5a69788796a5b4c3d2e1f0aa"
	vmC := "8d4e3a0f-5f6c-4b7d-9e9f-4a3c2d1e0f9b"
	verify := []stamped{
		{time.Hour, events.ScheduleDue{RunID: verifyRun, Job: "check", Schedule: "weekly", Mode: events.ModeVerify, FireTime: t0.Add(time.Hour)}},
		{time.Hour + time.Second, events.VerifyCompleted{RunID: verifyRun, Job: "check", BackupID: "nfs:" + vmA + "/20261129T010002Z",
			Remote: "nfs", VMUUID: vmA, SHA256: sha, Bytes: 200 << 20, DurationMS: 900}},
		{time.Hour + 2*time.Second, events.VerifyCompleted{RunID: verifyRun, Job: "check", BackupID: "nfs:" + vmC + "/20261129T010002Z",
			Remote: "nfs", VMUUID: vmC, SHA256: sha, Bytes: 100 << 20, DurationMS: 500}},
	}
	p := project(t0.Add(2*time.Hour), build(t, backupRun()), build(t, verify))
	r, ok := p.Run(verifyRun)
	if !ok {
		t.Fatal("verify run not found")
	}
	if a := find(t, &r.Task, vmA); a.VMName != "web-1" {
		t.Errorf("Run: verified VM %s named %q, want web-1 (as the backup run names it)", vmA, a.VMName)
	}
	if c := find(t, &r.Task, vmC); c.VMName != "" {
		t.Errorf("Run: VM %s that no run names is named %q", vmC, c.VMName)
	}
	for _, r := range p.Runs() {
		if r.ID == verifyRun {
			if a := find(t, &r.Task, vmA); a.VMName != "web-1" {
				t.Errorf("Runs: verified VM %s named %q, want web-1", vmA, a.VMName)
			}
		}
	}
	var b bytes.Buffer
	if err := history.WriteText(&b, p.Runs()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "VM web-1 ("+vmA+")") {
		t.Errorf("text history does not name the verified VM:\n%s", b.String())
	}
}
