package schedule_test

import (
	"strings"
	"testing"
	"time"

	"xbr/shared/schedule"
)

// The 2026 transitions: Europe/Paris springs forward on March 29 at 02:00 CET
// and falls back on October 25 at 03:00 CEST; America/New_York springs
// forward on March 8 at 02:00 EST and falls back on November 1 at 02:00 EDT.
// Expected fires are written by hand from those facts, in local time.
func TestFiresAcrossDST(t *testing.T) {
	tests := []struct {
		zone, cron, from, to string
		want                 []string
	}{
		// Fixed time in the spring gap: once, at the end of the gap.
		{"Europe/Paris", "30 2 * * *", "2026-03-28T00:00:00+01:00", "2026-03-30T12:00:00+02:00", []string{
			"2026-03-28T02:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"}},
		// Fixed time in the repeated hour: once, at the first occurrence.
		{"Europe/Paris", "30 2 * * *", "2026-10-24T00:00:00+02:00", "2026-10-26T12:00:00+01:00", []string{
			"2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"}},
		{"Europe/Paris", "0 * * * *", "2026-03-28T23:30:00+01:00", "2026-03-29T04:30:00+02:00", []string{
			"2026-03-29T00:00:00+01:00", "2026-03-29T01:00:00+01:00",
			"2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"}},
		{"Europe/Paris", "0 * * * *", "2026-10-25T00:30:00+02:00", "2026-10-25T04:30:00+01:00", []string{
			"2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00",
			"2026-10-25T03:00:00+01:00", "2026-10-25T04:00:00+01:00"}},
		{"Europe/Paris", "*/15 1-3 * * *", "2026-03-29T00:00:00+01:00", "2026-03-29T05:00:00+02:00", []string{
			"2026-03-29T01:00:00+01:00", "2026-03-29T01:15:00+01:00", "2026-03-29T01:30:00+01:00", "2026-03-29T01:45:00+01:00",
			"2026-03-29T03:00:00+02:00", "2026-03-29T03:15:00+02:00", "2026-03-29T03:30:00+02:00", "2026-03-29T03:45:00+02:00"}},
		{"Europe/Paris", "*/15 1-3 * * *", "2026-10-25T00:00:00+02:00", "2026-10-25T05:00:00+01:00", []string{
			"2026-10-25T01:00:00+02:00", "2026-10-25T01:15:00+02:00", "2026-10-25T01:30:00+02:00", "2026-10-25T01:45:00+02:00",
			"2026-10-25T02:00:00+02:00", "2026-10-25T02:15:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:45:00+02:00",
			"2026-10-25T02:00:00+01:00", "2026-10-25T02:15:00+01:00", "2026-10-25T02:30:00+01:00", "2026-10-25T02:45:00+01:00",
			"2026-10-25T03:00:00+01:00", "2026-10-25T03:15:00+01:00", "2026-10-25T03:30:00+01:00", "2026-10-25T03:45:00+01:00"}},
		{"America/New_York", "30 2 * * *", "2026-03-07T00:00:00-05:00", "2026-03-09T12:00:00-04:00", []string{
			"2026-03-07T02:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"}},
		// In New York the repeated hour is 01:00-02:00, so 02:30 is an ordinary time...
		{"America/New_York", "30 2 * * *", "2026-10-31T00:00:00-04:00", "2026-11-02T12:00:00-05:00", []string{
			"2026-10-31T02:30:00-04:00", "2026-11-01T02:30:00-05:00", "2026-11-02T02:30:00-05:00"}},
		// ...and 01:30 is the one that happens twice.
		{"America/New_York", "30 1 * * *", "2026-10-31T12:00:00-04:00", "2026-11-01T12:00:00-05:00", []string{
			"2026-11-01T01:30:00-04:00"}},
		{"America/New_York", "0 * * * *", "2026-03-07T23:30:00-05:00", "2026-03-08T04:30:00-04:00", []string{
			"2026-03-08T00:00:00-05:00", "2026-03-08T01:00:00-05:00",
			"2026-03-08T03:00:00-04:00", "2026-03-08T04:00:00-04:00"}},
		{"America/New_York", "0 * * * *", "2026-10-31T23:30:00-04:00", "2026-11-01T03:30:00-05:00", []string{
			"2026-11-01T00:00:00-04:00", "2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00",
			"2026-11-01T02:00:00-05:00", "2026-11-01T03:00:00-05:00"}},
		{"America/New_York", "*/15 1-3 * * *", "2026-03-08T00:00:00-05:00", "2026-03-08T05:00:00-04:00", []string{
			"2026-03-08T01:00:00-05:00", "2026-03-08T01:15:00-05:00", "2026-03-08T01:30:00-05:00", "2026-03-08T01:45:00-05:00",
			"2026-03-08T03:00:00-04:00", "2026-03-08T03:15:00-04:00", "2026-03-08T03:30:00-04:00", "2026-03-08T03:45:00-04:00"}},
		{"America/New_York", "*/15 1-3 * * *", "2026-11-01T00:00:00-04:00", "2026-11-01T05:00:00-05:00", []string{
			"2026-11-01T01:00:00-04:00", "2026-11-01T01:15:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:45:00-04:00",
			"2026-11-01T01:00:00-05:00", "2026-11-01T01:15:00-05:00", "2026-11-01T01:30:00-05:00", "2026-11-01T01:45:00-05:00",
			"2026-11-01T02:00:00-05:00", "2026-11-01T02:15:00-05:00", "2026-11-01T02:30:00-05:00", "2026-11-01T02:45:00-05:00",
			"2026-11-01T03:00:00-05:00", "2026-11-01T03:15:00-05:00", "2026-11-01T03:30:00-05:00", "2026-11-01T03:45:00-05:00"}},
		// Several fixed times inside the gap collapse into one fire.
		{"Europe/Paris", "0,30 2 * * *", "2026-03-29T00:00:00+01:00", "2026-03-29T12:00:00+02:00", []string{
			"2026-03-29T03:00:00+02:00"}},
	}
	for _, tt := range tests {
		t.Run(tt.zone+" "+tt.cron+" "+tt.from[:10], func(t *testing.T) {
			loc := mustLoad(t, tt.zone)
			var got []string
			for _, f := range schedule.Fires(schedule.MustParse(tt.cron), loc, mustTime(t, tt.from), mustTime(t, tt.to)) {
				got = append(got, f.Format(time.RFC3339))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("fires:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// Over a whole year with both transitions, an hourly expression fires once per
// real hour: consecutive fires are exactly one hour apart.
func TestHourlyFiresOncePerRealHour(t *testing.T) {
	for _, zone := range []string{"Europe/Paris", "America/New_York", "Australia/Lord_Howe"} {
		loc := mustLoad(t, zone)
		from := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
		fires := schedule.Fires(schedule.MustParse("30 * * * *"), loc, from, from.AddDate(1, 0, 0))
		if len(fires) < 8750 {
			t.Fatalf("%s: %d fires in a year", zone, len(fires))
		}
		for i := 1; i < len(fires); i++ {
			gap := fires[i].Sub(fires[i-1])
			// Lord Howe shifts by 30 minutes: 01:30 happens twice, one half hour apart.
			if gap != time.Hour && (zone != "Australia/Lord_Howe" || gap != 30*time.Minute) {
				t.Fatalf("%s: %v then %v: %v apart", zone, fires[i-1], fires[i], gap)
			}
		}
	}
}

// A daily fixed-time expression fires exactly once on every local day of 2026.
func TestDailyFiresOncePerDay(t *testing.T) {
	for _, zone := range []string{"Europe/Paris", "America/New_York", "UTC"} {
		for _, expr := range []string{"30 2 * * *", "30 1 * * *", "0 3 * * *"} {
			loc := mustLoad(t, zone)
			from := time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
			fires := schedule.Fires(schedule.MustParse(expr), loc, from, time.Date(2027, 1, 1, 0, 0, 0, 0, loc))
			days := map[string]bool{}
			for _, f := range fires {
				days[f.Format("2006-01-02")] = true
			}
			if len(fires) != 365 || len(days) != 365 {
				t.Errorf("%s %q: %d fires on %d days, want 365", zone, expr, len(fires), len(days))
			}
		}
	}
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
