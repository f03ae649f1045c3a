package schedule_test

import (
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/schedule"
)

func TestManualFire(t *testing.T) {
	at := time.Date(2026, 12, 6, 19, 0, 0, 123, time.FixedZone("CET", 3600))
	d := schedule.ManualFire("full", "nightly", "daily", "alice", at)
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if !d.Manual || d.Mode != "full" || d.Job != "nightly" || d.Schedule != "daily" || d.RequestedBy != "alice" ||
		!d.FireTime.Equal(at) || d.FireTime.Location() != time.UTC {
		t.Errorf("ManualFire = %+v", d)
	}
	if again := schedule.ManualFire("full", "nightly", "daily", "bob", at.UTC()); again.RunID != d.RunID {
		t.Errorf("the same job, schedule and time: run %s, then %s", d.RunID, again.RunID)
	}
	if other := schedule.ManualFire("full", "nightly", "weekly", "alice", at); other.RunID == d.RunID {
		t.Error("two schedules fired at once share a run id")
	}
	m, err := events.Subjects{}.Message(events.Meta{ID: d.RunID, Source: events.Source("cli"), Time: d.FireTime}, d)
	if err != nil || m.Subject != "xbr.schedule.due.full.nightly.daily" {
		t.Errorf("published on %q (%v), want the subject of the full jobs' fires", m.Subject, err)
	}
	if want := events.DeriveID("manual", "nightly", "daily", at.UTC().Format(time.RFC3339Nano)); d.RunID != want {
		t.Errorf("run id %s, want %s (the id `xbr run` always derived)", d.RunID, want)
	}
}
