package protection

import (
	"time"

	"xbr/shared/config"
)

const (
	// DefaultGrace is the largest grace added to a schedule's interval.
	DefaultGrace = 2 * time.Hour
	// DefaultWindow is how far back the schedules' fires are scanned for
	// their longest gap (a week and a day: weekday-only crons show their
	// weekend gap).
	DefaultWindow = 8 * 24 * time.Hour
	minGrace      = time.Minute
)

// RPO is job j's recovery point objective at now (0: none); see the
// package documentation.
func RPO(j config.Job, now time.Time) time.Duration {
	if j.RPO > 0 {
		return j.RPO
	}
	gap := longestGap(j.Schedules, now)
	if gap <= 0 {
		return 0
	}
	return gap + min(max(gap/4, minGrace), DefaultGrace)
}

// longestGap is the longest time between consecutive fires of the enabled
// schedules in (now-DefaultWindow, now], the first fire after now included.
func longestGap(scheds []config.Schedule, now time.Time) time.Duration {
	var prev time.Time
	var gap time.Duration
	for t := now.Add(-DefaultWindow); ; {
		next := nextFire(scheds, t)
		if next.IsZero() {
			return gap
		}
		if !prev.IsZero() {
			gap = max(gap, next.Sub(prev))
		}
		if next.After(now) {
			if prev.IsZero() { // fewer than two fires in the window
				if after := nextFire(scheds, next); !after.IsZero() {
					gap = after.Sub(next)
				}
			}
			return gap
		}
		prev, t = next, next
	}
}

// nextFire is the first fire after t of any enabled schedule (zero: none).
func nextFire(scheds []config.Schedule, t time.Time) time.Time {
	var out time.Time
	for _, s := range scheds {
		if !s.Enabled || s.Spec.IsZero() {
			continue
		}
		loc := s.Location
		if loc == nil {
			loc = time.UTC
		}
		if n := s.Spec.Next(t, loc); !n.IsZero() && (out.IsZero() || n.Before(out)) {
			out = n
		}
	}
	return out
}
