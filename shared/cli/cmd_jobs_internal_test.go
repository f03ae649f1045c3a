package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"xbr/events"
)

// TestJobsNextFireInTheJobsZone: the next fire of a Paris schedule at 02:00
// reads 02:00 CET in the table and +01:00 in JSON, not 01:00 UTC unnamed.
func TestJobsNextFireInTheJobsZone(t *testing.T) {
	next := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC) // 02:00 in Paris
	jobs := inJobZones([]events.JobInfo{{Name: "nightly", Mode: "full", Schedules: []events.ScheduleInfo{
		{Name: "daily", Cron: "0 2 * * *", Timezone: "Europe/Paris", Enabled: true, Next: next},
		{Name: "utc", Cron: "0 3 * * *", Timezone: "UTC", Enabled: true, Next: next},
	}}})
	var table bytes.Buffer
	if err := printJobs(&table, jobs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"2026-12-07 02:00:00 CET", "2026-12-07 01:00:00 UTC"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("jobs ls table lacks %q:\n%s", want, table.String())
		}
	}
	raw, err := json.Marshal(jobs[0].Schedules[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"next":"2026-12-07T02:00:00+01:00"`) {
		t.Errorf("jobs ls --json: %s, want next in RFC 3339 with the Paris offset", raw)
	}
}
