package config

import (
	"fmt"
	"time"

	"xbr/events"
)

// StaleFire says why fire due, stored in the stream at stored (zero when not
// known) and handled at now, is skipped, or "" when it runs. The timer fires a
// missed schedule within CatchUp of its time, so a handler skips only a fire
// that waited in the stream longer than CatchUp (its function was down):
// measured from when it was stored, not from its fire time, since a fire the
// timer caught up near the window's edge is handled a moment later. A manual
// fire always runs. A fire of a schedule disabled since it was stored is
// skipped too: a disabled schedule never fires. The reason is what
// run.completed of a skipped run says.
func (c *Config) StaleFire(due events.ScheduleDue, stored, now time.Time) string {
	if due.Manual {
		return ""
	}
	if why := c.DisabledFire(due); why != "" {
		return why
	}
	if c.CatchUp <= 0 {
		return ""
	}
	since := stored
	if since.IsZero() {
		since = due.FireTime
	}
	if waited := now.Sub(since); waited > c.CatchUp {
		return fmt.Sprintf("the fire of %s waited %s to be handled, more than catch_up (%s)",
			due.FireTime.UTC().Format(time.RFC3339), waited.Round(time.Second), c.CatchUp)
	}
	return ""
}

// DisabledFire says why fire due is skipped because its schedule was disabled
// after it fired (queued behind a run, or stored while its function was
// down), or "" when it runs: a disabled schedule never fires, but a manual
// run of one is the operator's choice and goes ahead.
func (c *Config) DisabledFire(due events.ScheduleDue) string {
	if due.Manual {
		return ""
	}
	if job, ok := c.Job(due.Job); ok {
		if s, ok := job.Schedule(due.Schedule); ok && !s.Enabled {
			return fmt.Sprintf("schedule %s was disabled after this fire", due.Schedule)
		}
	}
	return ""
}
