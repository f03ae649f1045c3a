package prune_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/prune"
	"xbr/shared/catalog"
)

var remoteKinds = []string{"dir", "s3"}

// Depth 3 over 10 runs leaves exactly the 3 newest backups per VM, job,
// schedule and remote; another job's and another schedule's backups of the
// same VMs are untouched, and every deleted backup is gone whole.
func TestDepthOverTenRuns(t *testing.T) {
	for _, kind := range remoteKinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, 2, kind)
			ctx := context.Background()
			r := w.remotes["store"]
			var others, weekly []string
			written := map[string][]string{}
			for run := range 10 {
				at := t0.Add(time.Duration(run) * 24 * time.Hour)
				for _, vm := range w.vms {
					others = append(others, put(t, r, vm, "other", "daily", at.Add(2*time.Hour)).String())
					if run < 4 {
						weekly = append(weekly, put(t, r, vm, "nightly", "weekly", at.Add(time.Hour)).String())
					}
					id := put(t, r, vm, "nightly", "daily", at)
					written[vm.UUID] = append(written[vm.UUID], id.String())
					outs, err := w.pruner.Handle(ctx, exported(t, fmt.Sprint("run", run), vm, "nightly", "daily", id))
					if err != nil {
						t.Fatal(err)
					}
					done := payloads[events.PruneCompleted](t, outs)
					if len(done) != 1 || len(outs) != 1 {
						t.Fatalf("run %d: outs %d, completed %+v", run, len(outs), done)
					}
					wantDeleted := []string(nil)
					if run >= 3 {
						wantDeleted = []string{written[vm.UUID][run-3]}
					}
					if got := deletedIDs(done[0].Deleted); !slices.Equal(got, wantDeleted) {
						t.Errorf("run %d vm %s: deleted %v, want %v", run, vm.NameLabel, got, wantDeleted)
					}
					for _, d := range done[0].Deleted {
						if !strings.Contains(d.Reason, "outside depth 3") {
							t.Errorf("reason %q does not say why", d.Reason)
						}
					}
					if len(done[0].Kept) != min(run+1, 3) || done[0].Remote != "store" || done[0].Retention != 3 {
						t.Errorf("run %d: %+v", run, done[0])
					}
				}
			}
			for _, vm := range w.vms {
				got := listed(t, r, vm.UUID, "nightly", "daily")
				want := written[vm.UUID][7:]
				slices.Reverse(want)
				if !slices.Equal(got, want) {
					t.Errorf("vm %s: kept %v, want the 3 newest %v", vm.NameLabel, got, want)
				}
			}
			// Another job's and another schedule's backups are all there.
			for _, sched := range []struct {
				job, sched string
				want       []string
			}{{"other", "daily", others}, {"nightly", "weekly", weekly}} {
				var got []string
				for _, vm := range w.vms {
					got = append(got, listed(t, r, vm.UUID, sched.job, sched.sched)...)
				}
				if len(got) != len(sched.want) {
					t.Errorf("%s/%s: %d backups listed, want all %d", sched.job, sched.sched, len(got), len(sched.want))
				}
			}
			assertNoStrayFiles(t, w)
		})
	}
}

// assertNoStrayFiles checks that every file left under xo-vm-backups/ belongs
// to a listed backup: prune deleted the data and checksum of what it unlisted.
func assertNoStrayFiles(t *testing.T, w *world) {
	t.Helper()
	r := w.remotes["store"]
	bs, _, err := catalog.List(context.Background(), r, catalog.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, b := range bs {
		want[b.ID.MetaKey()], want[b.ID.DataKey()], want[b.ID.ChecksumKey()] = true, true, true
	}
	for _, k := range keys(t, r, catalog.Root) {
		if !want[k] {
			t.Errorf("stray file %s", k)
		}
	}
}

// A failed export publishes no export.completed: the prune function neither
// subscribes to export.failed nor acts on it, so backups beyond the depth
// stay until a backup completes.
func TestFailedRunDeletesNothing(t *testing.T) {
	w := newWorld(t, 1, "dir")
	r, vm := w.remotes["store"], w.vms[0]
	for i := range 5 {
		put(t, r, vm, "nightly", "daily", t0.Add(time.Duration(i)*time.Hour))
	}
	before := keys(t, r, "")
	failed := received(t, "failed-1", events.ExportFailed{RunID: "run-f", Job: "nightly", Schedule: "daily",
		VMUUID: vm.UUID, Pool: "lab", Error: "XAPI: SR_FULL"})
	outs, err := w.pruner.Handle(context.Background(), failed)
	if err != nil || len(outs) != 0 {
		t.Fatalf("export.failed gave %d events, err %v", len(outs), err)
	}
	if after := keys(t, r, ""); !slices.Equal(after, before) {
		t.Errorf("files changed after a failed run:\nbefore %v\nafter  %v", before, after)
	}
	for _, f := range prune.Consumer(events.Subjects{}, "XBR_EVENTS").Subjects {
		for _, bad := range []events.Type{events.TypeExportFailed, events.TypeSnapshotFailed} {
			if f == (events.Subjects{}).Filter(bad) {
				t.Errorf("the prune consumer subscribes to %s", bad)
			}
		}
	}
}

// A crash between export and prune (no prune after runs 3 and 4) is repaired
// by the next completed export: it prunes everything beyond the depth.
func TestCrashBetweenExportAndPruneRepairedByNextRun(t *testing.T) {
	for _, kind := range remoteKinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, 1, kind)
			r, vm := w.remotes["store"], w.vms[0]
			var ids []string
			for run := range 6 {
				id := put(t, r, vm, "nightly", "daily", t0.Add(time.Duration(run)*time.Hour))
				ids = append(ids, id.String())
				if run == 3 || run == 4 {
					continue // crashed before pruning
				}
				if _, err := w.pruner.Handle(context.Background(), exported(t, fmt.Sprint("run", run), vm, "nightly", "daily", id)); err != nil {
					t.Fatal(err)
				}
				if run == 2 && len(listed(t, r, vm.UUID, "nightly", "daily")) != 3 {
					t.Fatal("setup: depth not reached")
				}
			}
			got := listed(t, r, vm.UUID, "nightly", "daily")
			if want := []string{ids[5], ids[4], ids[3]}; !slices.Equal(got, want) {
				t.Errorf("after the repair: %v, want %v", got, want)
			}
			assertNoStrayFiles(t, w)
		})
	}
}

// A redelivered export.completed decides again on what is listed: it deletes
// nothing more and its events have the same ids.
func TestRedeliveryIsIdempotent(t *testing.T) {
	w := newWorld(t, 1, "dir")
	r, vm := w.remotes["store"], w.vms[0]
	var last catalog.ID
	for i := range 5 {
		last = put(t, r, vm, "nightly", "daily", t0.Add(time.Duration(i)*time.Hour))
	}
	ev := exported(t, "run-x", vm, "nightly", "daily", last)
	first, err := w.pruner.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	second, err := w.pruner.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 1 || len(second) != 1 || first[0].Event.ID() != second[0].Event.ID() {
		t.Fatalf("event ids differ or missing: %v / %v", first, second)
	}
	a, b := payloads[events.PruneCompleted](t, first), payloads[events.PruneCompleted](t, second)
	if len(a[0].Deleted) != 2 || len(b[0].Deleted) != 0 || !slices.Equal(a[0].Kept, b[0].Kept) {
		t.Errorf("first deleted %v, second %v", a[0].Deleted, b[0].Deleted)
	}
}

// An export.completed whose backup is not on the remote prunes nothing: only
// a completed backup may push older ones out.
func TestUnlistedNewBackupPrunesNothing(t *testing.T) {
	w := newWorld(t, 1, "dir")
	r, vm := w.remotes["store"], w.vms[0]
	for i := range 5 {
		put(t, r, vm, "nightly", "daily", t0.Add(time.Duration(i)*time.Hour))
	}
	ghost, err := catalog.NewID("store", vm.UUID, t0.Add(10*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	outs, err := w.pruner.Handle(context.Background(), exported(t, "run-g", vm, "nightly", "daily", ghost))
	if err != nil {
		t.Fatal(err)
	}
	failed := payloads[events.PruneFailed](t, outs)
	if len(failed) != 1 || !strings.Contains(failed[0].Error, "not listed") || len(failed[0].Deleted) != 0 {
		t.Fatalf("outs %+v", failed)
	}
	if n := len(listed(t, r, vm.UUID, "nightly", "daily")); n != 5 {
		t.Errorf("%d backups left, want all 5", n)
	}
}

// Long-term buckets keep, beyond the depth, the oldest backup of each of the
// 3 most recent Paris days (and 2 months), and say so.
func TestLongTermRetentionThroughPrune(t *testing.T) {
	w := newWorld(t, 1, "dir")
	r, vm := w.remotes["store"], w.vms[0]
	paris, _ := time.LoadLocation("Europe/Paris")
	var last catalog.ID
	// Two backups a day for 5 days, at 00:30 and 12:30 Paris time.
	for d := range 5 {
		for _, h := range []int{0, 12} {
			last = put(t, r, vm, "longterm", "daily", time.Date(2026, 3, 27+d, h, 30, 0, 0, paris))
		}
	}
	outs, err := w.pruner.Handle(context.Background(), exported(t, "run-l", vm, "longterm", "daily", last))
	if err != nil {
		t.Fatal(err)
	}
	done := payloads[events.PruneCompleted](t, outs)
	if len(done) != 1 {
		t.Fatalf("outs %v", outs)
	}
	var got []string
	for _, id := range listed(t, r, vm.UUID, "longterm", "daily") {
		parsed, _ := catalog.ParseID(id)
		got = append(got, parsed.Time.In(paris).Format("01-02 15:04"))
	}
	// depth 2: 03-31 12:30 and 00:30; daily 3: oldest of 03-31, 03-30, 03-29;
	// monthly 2: oldest of March (03-27 00:30) — April has none.
	want := []string{"03-31 12:30", "03-31 00:30", "03-30 00:30", "03-29 00:30", "03-27 00:30"}
	if !slices.Equal(got, want) {
		t.Errorf("kept %v, want %v", got, want)
	}
	for _, d := range done[0].Deleted {
		if d.Reason == "" || !strings.Contains(d.Reason, "outside depth 2") {
			t.Errorf("deleted %s without its reasons: %q", d.ID, d.Reason)
		}
	}
}

// Backups an older xbr wrote with the job and schedule names as jobId and
// scheduleId stay in their schedule's retention once backups carry UUIDs:
// they are counted, and aged out first.
func TestRetentionCountsNameBasedBackups(t *testing.T) {
	for _, kind := range remoteKinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, 1, kind)
			ctx := context.Background()
			r, vm := w.remotes["store"], w.vms[0]
			job, _ := w.cfg.Job("nightly")
			sched, _ := job.Schedule("daily")
			var written []string
			for run := range 6 {
				at := t0.Add(time.Duration(run) * 24 * time.Hour)
				jobID, schedID := job.ID, sched.ID
				if run < 3 {
					jobID, schedID = "nightly", "daily" // written before ids
				}
				id := put(t, r, vm, jobID, schedID, at)
				written = append(written, id.String())
				if run < 2 {
					continue
				}
				if _, err := w.pruner.Handle(ctx, exported(t, fmt.Sprint("run", run), vm, "nightly", "daily", id)); err != nil {
					t.Fatal(err)
				}
				bs, _, err := catalog.List(ctx, r, catalog.Filter{VM: vm.UUID})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, b := range bs {
					got = append(got, b.ID.String())
				}
				if want := []string{written[run], written[run-1], written[run-2]}; !slices.Equal(got, want) {
					t.Errorf("run %d: on the remote %v, want %v", run, got, want)
				}
			}
		})
	}
}

// A backup that cannot be deleted (here its .json refuses deletion) is
// named in prune.failed, but does not stop the prune: the other backups
// beyond the depth are still deleted, so one stuck backup never keeps every
// older one forever.
func TestBackupPruneGoesOnPastOneItCannotDelete(t *testing.T) {
	w := newWorld(t, 1, "dir")
	r, vm := w.remotes["store"], w.vms[0]
	var ids []catalog.ID
	for i := range 6 {
		ids = append(ids, put(t, r, vm, "nightly", "daily", t0.Add(time.Duration(i)*time.Hour)))
	}
	w.remotes["store"] = &faultyRemote{Remote: r, undeletable: ids[1].MetaKey()}
	outs, err := w.pruner.Handle(context.Background(), exported(t, "run-s", vm, "nightly", "daily", ids[5]))
	if err != nil {
		t.Fatal(err)
	}
	failed := payloads[events.PruneFailed](t, outs)
	if len(failed) != 1 || !strings.Contains(failed[0].Error, ids[1].String()) {
		t.Fatalf("prune.failed %+v, want one naming %s", failed, ids[1])
	}
	if got, want := deletedIDs(failed[0].Deleted), []string{ids[0].String(), ids[2].String()}; !slices.Equal(got, want) {
		t.Errorf("deleted %v, want %v (oldest first, past the stuck one)", got, want)
	}
	got := listed(t, r, vm.UUID, "nightly", "daily")
	if want := []string{ids[5].String(), ids[4].String(), ids[3].String(), ids[1].String()}; !slices.Equal(got, want) {
		t.Errorf("listed %v, want the 3 newest and the stuck one %v", got, want)
	}
	assertNoStrayFiles(t, w)
}
