package schedule

import "time"

// Schedule is what the timer needs to know about one schedule of a job.
type Schedule struct {
	Cron     Cron
	Location *time.Location // UTC when nil
	Enabled  bool
}

// Decision is what the timer should do for one schedule at one tick.
type Decision struct {
	// Fire is the fire time to publish, or the zero time for none.
	Fire time.Time
	// Coalesced counts the fires inside the catch-up window that Fire stands
	// for (1 on a normal tick, more after a short downtime).
	Coalesced int
	// Dropped counts the fires in (lastChecked, now] older than the window;
	// they are never published.
	Dropped int
	// Next is the first fire after now: when to evaluate again (zero when
	// the schedule is disabled or never fires).
	Next time.Time
}

// Decide returns what a timer that evaluated s up to lastChecked should
// publish at now. Fires in (lastChecked, now] no older than now-catchUp are
// coalesced into one (the latest); older ones are dropped and counted. A
// zero lastChecked means the timer never ran: nothing is caught up. A
// disabled schedule never fires. catchUp should be at least the timer's tick
// interval, or on-time fires may be dropped.
func Decide(s Schedule, lastChecked, now time.Time, catchUp time.Duration) Decision {
	if !s.Enabled || s.Cron.IsZero() {
		return Decision{}
	}
	d := Decision{Next: s.Cron.Next(now, s.Location)}
	if lastChecked.IsZero() || !lastChecked.Before(now) {
		return d
	}
	windowStart := now.Add(-max(catchUp, 0))
	for t := s.Cron.Next(lastChecked, s.Location); !t.IsZero() && !t.After(now); t = s.Cron.Next(t, s.Location) {
		if t.Before(windowStart) {
			d.Dropped++
			continue
		}
		d.Coalesced++
		d.Fire = t
	}
	return d
}

// FireID is the deterministic id of one fire of a schedule:
// "<job>/<schedule>/<fire time in UTC, RFC 3339>". Every timer replica
// derives the same id, so JetStream de-duplication keeps one event.
func FireID(job, schedule string, fire time.Time) string {
	return job + "/" + schedule + "/" + fire.UTC().Format(time.RFC3339)
}
