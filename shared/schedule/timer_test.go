package schedule_test

import (
	"testing"
	"time"

	"xbr/shared/schedule"
)

func TestDecide(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	daily := schedule.Schedule{Cron: schedule.MustParse("0 2 * * *"), Location: paris, Enabled: true}
	quarter := schedule.Schedule{Cron: schedule.MustParse("*/15 * * * *"), Location: time.UTC, Enabled: true}
	tests := []struct {
		name               string
		s                  schedule.Schedule
		lastChecked, now   string
		catchUp            time.Duration
		fire, next         string // "" = zero time
		coalesced, dropped int
	}{
		{"on time", daily, "2026-05-10T01:59:58+02:00", "2026-05-10T02:00:01+02:00", time.Hour,
			"2026-05-10T02:00:00+02:00", "2026-05-11T02:00:00+02:00", 1, 0},
		{"nothing due", daily, "2026-05-10T02:00:01+02:00", "2026-05-10T02:00:03+02:00", time.Hour,
			"", "2026-05-11T02:00:00+02:00", 0, 0},
		{"fire at lastChecked was already handled", daily, "2026-05-10T02:00:00+02:00", "2026-05-10T02:00:05+02:00", time.Hour,
			"", "2026-05-11T02:00:00+02:00", 0, 0},
		{"fire exactly at now", daily, "2026-05-10T01:59:00+02:00", "2026-05-10T02:00:00+02:00", time.Hour,
			"2026-05-10T02:00:00+02:00", "2026-05-11T02:00:00+02:00", 1, 0},
		{"missed inside the window", daily, "2026-05-10T01:00:00+02:00", "2026-05-10T02:40:00+02:00", time.Hour,
			"2026-05-10T02:00:00+02:00", "2026-05-11T02:00:00+02:00", 1, 0},
		{"missed at the window's edge", daily, "2026-05-10T01:00:00+02:00", "2026-05-10T03:00:00+02:00", time.Hour,
			"2026-05-10T02:00:00+02:00", "2026-05-11T02:00:00+02:00", 1, 0},
		{"missed outside the window", daily, "2026-05-10T01:00:00+02:00", "2026-05-10T03:00:01+02:00", time.Hour,
			"", "2026-05-11T02:00:00+02:00", 0, 1},
		{"three days down, window 1h", daily, "2026-05-07T12:00:00+02:00", "2026-05-10T12:00:00+02:00", time.Hour,
			"", "2026-05-11T02:00:00+02:00", 0, 3},
		{"three days down, window 2 days", daily, "2026-05-07T12:00:00+02:00", "2026-05-10T12:00:00+02:00", 48 * time.Hour,
			"2026-05-10T02:00:00+02:00", "2026-05-11T02:00:00+02:00", 2, 1},
		{"missed fires coalesced into the latest", quarter, "2026-05-10T10:05:00Z", "2026-05-10T10:50:00Z", time.Hour,
			"2026-05-10T10:45:00Z", "2026-05-10T11:00:00Z", 3, 0},
		{"coalesced and dropped", quarter, "2026-05-10T08:05:00Z", "2026-05-10T10:50:00Z", 30 * time.Minute,
			"2026-05-10T10:45:00Z", "2026-05-10T11:00:00Z", 2, 9},
		{"disabled", schedule.Schedule{Cron: daily.Cron, Location: paris}, "2026-05-10T01:59:58+02:00", "2026-05-10T02:00:01+02:00", time.Hour,
			"", "", 0, 0},
		{"first start catches nothing up", daily, "", "2026-05-10T02:30:00+02:00", time.Hour,
			"", "2026-05-11T02:00:00+02:00", 0, 0},
		{"clock went backwards", daily, "2026-05-10T03:00:00+02:00", "2026-05-10T02:30:00+02:00", time.Hour,
			"", "2026-05-11T02:00:00+02:00", 0, 0},
		{"spring-forward gap fire caught up", schedule.Schedule{Cron: schedule.MustParse("30 2 * * *"), Location: paris, Enabled: true},
			"2026-03-29T01:59:00+01:00", "2026-03-29T03:10:00+02:00", time.Hour,
			"2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00", 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var last time.Time
			if tt.lastChecked != "" {
				last = mustTime(t, tt.lastChecked)
			}
			d := schedule.Decide(tt.s, last, mustTime(t, tt.now), tt.catchUp)
			if got := fmtTime(d.Fire); got != tt.fire {
				t.Errorf("fire = %s, want %s", got, tt.fire)
			}
			if got := fmtTime(d.Next); got != tt.next {
				t.Errorf("next = %s, want %s", got, tt.next)
			}
			if d.Coalesced != tt.coalesced || d.Dropped != tt.dropped {
				t.Errorf("coalesced %d dropped %d, want %d and %d", d.Coalesced, d.Dropped, tt.coalesced, tt.dropped)
			}
		})
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

func TestFireID(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	a := schedule.FireID("nightly", "daily", time.Date(2026, 3, 29, 3, 0, 0, 0, paris))
	b := schedule.FireID("nightly", "daily", time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC))
	if a != "nightly/daily/2026-03-29T01:00:00Z" || a != b {
		t.Errorf("ids %q and %q: want the same UTC-based id", a, b)
	}
	if schedule.FireID("nightly", "weekly", time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)) == a {
		t.Error("different schedules must not share an id")
	}
}
