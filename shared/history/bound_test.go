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
// pending one, and a dropped run's events do not stay in its memory.
func TestKeepRunsBoundsTheProjection(t *testing.T) {
	p := history.New(history.Options{KeepRuns: 3, Now: func() time.Time { return t0.Add(24 * time.Hour) }})
	pending := fmt.Sprintf("%032x", 99)
	var list []stamped
	list = append(list, stamped{0, events.ScheduleDue{RunID: pending, Job: "nightly", Schedule: "daily", FireTime: t0}})
	for i := range 6 {
		id := fmt.Sprintf("%032x", i+1)
		at := time.Duration(i+1) * time.Minute
		list = append(list,
			stamped{at, events.ScheduleDue{RunID: id, Job: "nightly", Schedule: "daily", FireTime: t0.Add(at)}},
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
