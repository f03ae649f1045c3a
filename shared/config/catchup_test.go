package config_test

import (
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/config"
)

// TestStaleFireOfADisabledSchedule: a fire stored before its schedule was
// disabled is skipped, saying so ("a disabled schedule never fires"); a
// manual run of that schedule goes ahead, and an enabled one is judged by
// catch_up alone.
func TestStaleFireOfADisabledSchedule(t *testing.T) {
	c := &config.Config{CatchUp: time.Hour, Jobs: []config.Job{{Name: "check", Schedules: []config.Schedule{
		{Name: "weekly", Enabled: false}, {Name: "daily", Enabled: true}}}}}
	now := time.Date(2026, 12, 7, 2, 0, 5, 0, time.UTC)
	fire := func(schedule string, manual bool) events.ScheduleDue {
		return events.ScheduleDue{RunID: "r", Job: "check", Schedule: schedule, FireTime: now.Add(-5 * time.Second), Manual: manual}
	}
	if why := c.StaleFire(fire("weekly", false), now, now); !strings.Contains(why, "disabled") {
		t.Errorf("a fire of the disabled schedule: %q, want skipped as disabled", why)
	}
	if why := c.StaleFire(fire("weekly", true), now, now); why != "" {
		t.Errorf("a manual run of the disabled schedule: skipped (%q), want it to run", why)
	}
	if why := c.StaleFire(fire("daily", false), now, now); why != "" {
		t.Errorf("a fresh fire of an enabled schedule: skipped (%q)", why)
	}
}
