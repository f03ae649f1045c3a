package history_test

import (
	"fmt"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/history"
)

// TestKeepRunsBoundsTheProjection: a projection holds at most KeepRuns runs,
// dropping the ended ones with the oldest last event first and never a
// pending one that is not stale, and a dropped run's events do not stay in
// its memory.
func TestKeepRunsBoundsTheProjection(t *testing.T) {
	p := history.New(history.Options{KeepRuns: 3, Now: func() time.Time { return t0.Add(10 * time.Minute) }})
	pending := fmt.Sprintf("%032x", 99)
	var list []stamped
	list = append(list, stamped{0, events.ScheduleDue{RunID: pending, Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: t0}})
	for i := range 6 {
		id := fmt.Sprintf("%032x", i+1)
		at := time.Duration(i+1) * time.Minute
		list = append(list,
			stamped{at, events.ScheduleDue{RunID: id, Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: t0.Add(at)}},
			stamped{at + time.Second, events.RunCompleted{RunID: id, Job: "nightly", Schedule: "daily", Status: events.StatusSkipped, Reason: "already running"}})
	}
	recs := build(t, list)
	for _, r := range recs {
		p.Apply(r)
	}
	got := map[string]bool{}
	for _, r := range p.Runs() {
		got[r.ID] = true
	}
	want := []string{pending, fmt.Sprintf("%032x", 5), fmt.Sprintf("%032x", 6)}
	if len(got) != len(want) {
		t.Fatalf("runs held: %v, want %v", got, want)
	}
	for _, id := range want {
		if !got[id] {
			t.Errorf("run %s dropped; held %v", id, got)
		}
	}
}

// TestStaleAndLateRunsDoNotPileUp: a pending run gone stale (shown
// interrupted) is dropped like an ended one, and a progress sample of a
// dropped run, late on its own stream, does not start it again.
func TestStaleAndLateRunsDoNotPileUp(t *testing.T) {
	p := history.New(history.Options{KeepRuns: 2, Now: func() time.Time { return t0.Add(24 * time.Hour) }})
	id := func(i int) string { return fmt.Sprintf("%032x", i) }
	var list []stamped
	for i := range 4 {
		at := time.Duration(i) * time.Minute
		list = append(list, stamped{at, events.ScheduleDue{RunID: id(i), Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: t0.Add(at)}})
	}
	list = append(list, stamped{5 * time.Minute, events.ExportProgress{RunID: id(0), Job: "nightly",
		VMUUID: "11111111-2222-4333-8444-555555555555", Transfer: events.Transfer{Bytes: 1 << 20, BytesPerSecond: 1 << 20}}})
	for _, r := range build(t, list) {
		p.Apply(r)
	}
	var held []string
	for _, r := range p.Runs() {
		held = append(held, r.ID)
	}
	if len(held) != 2 || held[0] != id(3) || held[1] != id(2) {
		t.Fatalf("runs held %v, want the 2 newest (%s, %s)", held, id(3), id(2))
	}
}

// TestOutcomesOutliveTheDroppedRuns: the runs trim drops leave, per job, VM
// and status, their newest VM task (one success and one failure here, out
// of four dropped runs), so that a VM's newest copy is known however many
// runs ago it was made.
func TestOutcomesOutliveTheDroppedRuns(t *testing.T) {
	p := history.New(history.Options{KeepRuns: 2, Now: func() time.Time { return t0.Add(24 * time.Hour) }})
	id := func(i int) string { return fmt.Sprintf("%032x", i) }
	var list []stamped
	for i := 1; i <= 6; i++ {
		at := time.Duration(i) * time.Hour
		st := events.StatusSuccess
		if i%2 == 1 {
			st = events.StatusFailure
		}
		list = append(list,
			stamped{at, events.RunStarted{RunID: id(i), Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: t0.Add(at),
				VMs: []events.RunVM{{VMUUID: vmA, VMName: "web-1", Pool: "lab"}}}},
			stamped{at + time.Minute, events.RunCompleted{RunID: id(i), Job: "nightly", Schedule: "daily", Status: st,
				Results: []events.VMResult{{VMUUID: vmA, Status: st}}}})
	}
	for _, r := range build(t, list) {
		p.Apply(r)
	}
	if n := len(p.Runs()); n != 2 {
		t.Fatalf("%d runs held, want 2", n)
	}
	got := p.Outcomes()
	if len(got) != 2 {
		t.Fatalf("%d outcomes kept, want 2 (the newest success and failure of the VM): %+v", len(got), got)
	}
	for i, want := range []struct{ run, status string }{{id(4), history.StatusSuccess}, {id(3), history.StatusFailure}} {
		r := got[i]
		if r.ID != want.run || r.Job != "nightly" || len(r.Tasks) != 1 || r.Tasks[0].VMUUID != vmA || r.Tasks[0].Status != want.status {
			t.Errorf("outcome %d: run %s job %s tasks %+v, want run %s with VM %s %s", i, r.ID, r.Job, r.Tasks, want.run, vmA, want.status)
		}
	}
}

// TestRestoresOutliveTheDroppedRuns: the successful restores trim drops
// leave, per VM they created, the newest (two VMs here, out of four restores
// dropped: one failed, two named the same VM), so that a VM restored however
// many runs ago is known as restored, and when.
func TestRestoresOutliveTheDroppedRuns(t *testing.T) {
	p := history.New(history.Options{KeepRuns: 2, Now: func() time.Time { return t0.Add(24 * time.Hour) }})
	id := func(i int) string { return fmt.Sprintf("%032x", i) }
	backup := "nfs:" + vmA + "/20261129T010002Z"
	restore := func(i int, at time.Duration, vm string) []stamped {
		return []stamped{{at, events.RestoreRequested{RequestID: id(i), BackupID: backup, Pool: "lab"}},
			{at + time.Minute, events.RestoreCompleted{RequestID: id(i), BackupID: backup, Pool: "lab",
				NewVMUUID: vm, NewVMName: "restored", Bytes: 4096, DurationMS: 60000}}}
	}
	var list []stamped
	list = append(list, restore(1, time.Hour, vmA)...)
	list = append(list, restore(2, 2*time.Hour, vmA)...) // the same VM again: only the newer stays
	list = append(list, restore(3, 3*time.Hour, vmB)...)
	list = append(list, stamped{4 * time.Hour, events.RestoreRequested{RequestID: id(4), BackupID: backup, Pool: "lab"}},
		stamped{4*time.Hour + time.Minute, events.RestoreFailed{RequestID: id(4), BackupID: backup, Error: "SR full"}})
	for i := 5; i <= 7; i++ {
		at := time.Duration(i) * time.Hour
		list = append(list, stamped{at, events.RunCompleted{RunID: id(i), Job: "hourly", Schedule: "hourly",
			Status: events.StatusSkipped, Reason: "no VM selected"}})
	}
	for _, r := range build(t, list) {
		p.Apply(r)
	}
	if n := len(p.Runs()); n != 2 {
		t.Fatalf("%d runs held, want 2", n)
	}
	got := p.Restores()
	if len(got) != 2 {
		t.Fatalf("%d restores kept, want 2 (the newest of each restored VM): %+v", len(got), got)
	}
	for i, want := range []struct {
		req string
		end time.Duration
	}{{id(3), 3*time.Hour + time.Minute}, {id(2), 2*time.Hour + time.Minute}} {
		r := got[i]
		if r.ID != want.req || r.Message != history.KindRestore || r.Status != history.StatusSuccess || !r.End.Equal(t0.Add(want.end)) {
			t.Errorf("restore %d: %s %s %s ended %v, want request %s ended %v", i, r.ID, r.Message, r.Status, r.End, want.req, t0.Add(want.end))
		}
	}
}

// The restores kept after their runs are dropped are bounded too, by
// KeepRuns (the newest of them stay): every restore makes a new VM, so one
// per restored VM would grow with restores over the process's life.
func TestRestoresKeptAreBounded(t *testing.T) {
	p := history.New(history.Options{KeepRuns: 2, Now: func() time.Time { return t0.Add(24 * time.Hour) }})
	id := func(i int) string { return fmt.Sprintf("%032x", i) }
	backup := "nfs:" + vmA + "/20261129T010002Z"
	var list []stamped
	for i := 1; i <= 10; i++ {
		at := time.Duration(i) * time.Hour
		vm := fmt.Sprintf("%08x-0000-4000-8000-000000000000", i)
		list = append(list, stamped{at, events.RestoreRequested{RequestID: id(i), BackupID: backup, Pool: "lab"}},
			stamped{at + time.Minute, events.RestoreCompleted{RequestID: id(i), BackupID: backup, Pool: "lab",
				NewVMUUID: vm, NewVMName: "restored", Bytes: 4096, DurationMS: 60000}})
	}
	for _, r := range build(t, list) {
		p.Apply(r)
	}
	got := p.Restores()
	if len(got) != 2 || got[0].ID != id(8) || got[1].ID != id(7) {
		ids := make([]string, len(got))
		for i, r := range got {
			ids[i] = r.ID
		}
		t.Fatalf("restores kept %v, want the newest two dropped (%s, %s)", ids, id(8), id(7))
	}
}
