package cli

import (
	"testing"
	"time"

	"xbr/events"
)

// TestBackupTimeInTheScheduleZone: a backup's time reads in the zone of the
// schedule that took it, named; one of an unknown schedule (Xen
// Orchestra's, a removed job) in the local zone, named too.
func TestBackupTimeInTheScheduleZone(t *testing.T) {
	zones := scheduleZones([]events.JobInfo{{Name: "nightly", Schedules: []events.ScheduleInfo{
		{Name: "daily", Timezone: "Europe/Paris"}, {Name: "bad", Timezone: "Nowhere/Else"}}}})
	at := time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)
	if got := backupTime(zones, "nightly", "daily", at); got != "2026-12-06 02:00:00 CET" {
		t.Errorf("in the schedule's zone: %q", got)
	}
	if _, ok := zones["nightly/bad"]; ok {
		t.Error("an unknown zone was kept")
	}
	want := at.Local().Format("2006-01-02 15:04:05 MST")
	if got := backupTime(zones, "xo-job", "", at); got != want {
		t.Errorf("unknown schedule: %q, want %q", got, want)
	}
}
