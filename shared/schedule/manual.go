package schedule

import (
	"time"

	"xbr/events"
)

// ManualFire is the xbr.schedule.due of a run of job's schedule asked for
// by someone (`xbr run`, the chat command) at now; mode is the job's, and
// picks the planner that reads the fire. Its run id, which is also the
// event's id, is derived from the job, the schedule and now, as FireID is
// for a timer's fire.
func ManualFire(mode, job, schedule, requestedBy string, now time.Time) events.ScheduleDue {
	now = now.UTC()
	id := events.DeriveID("manual", job, schedule, now.Format(time.RFC3339Nano))
	return events.ScheduleDue{RunID: id, Job: job, Schedule: schedule, Mode: mode, FireTime: now, Manual: true,
		RequestedBy: requestedBy}
}
