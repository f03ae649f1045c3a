package schedule

import "time"

// searchYears bounds the search for a matching wall time. Feasible
// expressions match within 28 years (Feb 29 on a given weekday, across a
// non-leap century year); Parse rejects the rest.
const searchYears = 50

// Next returns the first fire of c strictly after after, in loc (UTC when
// nil), following the daylight-saving rules of the package documentation.
// It returns the zero time for the zero Cron.
func (c Cron) Next(after time.Time, loc *time.Location) time.Time {
	if !c.valid {
		return time.Time{}
	}
	if loc == nil {
		loc = time.UTC
	}
	if c.interval {
		return c.nextReal(after, loc)
	}
	return c.nextFixed(after, loc)
}

// Fires returns every fire of c in (from, to], in order.
// The caller bounds the window: "* * * * *" fires 1,440 times a day.
func Fires(c Cron, loc *time.Location, from, to time.Time) []time.Time {
	var out []time.Time
	for t := c.Next(from, loc); !t.IsZero() && !t.After(to); t = c.Next(t, loc) {
		out = append(out, t)
	}
	return out
}

// nextFixed scans wall times upwards from the wall time of after; each maps
// to its first real occurrence (or the end of a spring-forward gap), which is
// non-decreasing in the wall time, so the first one past after is the answer.
func (c Cron) nextFixed(after time.Time, loc *time.Location) time.Time {
	w := wall(after.In(loc)).Truncate(time.Minute)
	for range 10000 { // walls whose first occurrence is <= after: at most a repeated hour's worth
		if w = c.matchFrom(w); w.IsZero() {
			return time.Time{}
		}
		if t := firstInstant(w, loc); t.After(after) {
			return t
		}
		w = w.Add(time.Minute)
	}
	return time.Time{}
}

// nextReal walks the zone periods (spans of constant UTC offset) from after:
// inside one period wall time and real time move together, so the first
// matching wall time that falls inside the period is the next fire.
func (c Cron) nextReal(after time.Time, loc *time.Location) time.Time {
	start := after.In(loc)
	from := wall(start).Truncate(time.Minute).Add(time.Minute) // strictly after
	for range 1000 {                                           // a few zone changes a year
		_, offset := start.Zone()
		_, end := start.ZoneBounds()
		w := c.matchFrom(from)
		if w.IsZero() {
			return time.Time{}
		}
		t := time.Unix(w.Unix()-int64(offset), 0).In(loc)
		if end.IsZero() || t.Before(end) {
			return t
		}
		start = end.In(loc)
		from = wall(start).Add(time.Minute - time.Nanosecond).Truncate(time.Minute) // at or after
	}
	return time.Time{}
}

// wall returns t's wall clock as a UTC time, where arithmetic ignores zones.
func wall(t time.Time) time.Time {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.UTC)
}

// firstInstant returns the first instant whose wall clock in loc is w, or,
// when w falls in a spring-forward gap, the first instant after the gap.
func firstInstant(w time.Time, loc *time.Location) time.Time {
	_, before := time.Unix(w.Unix()-86400, 0).In(loc).Zone()
	_, later := time.Unix(w.Unix()+86400, 0).In(loc).Zone()
	early := time.Unix(w.Unix()-int64(max(before, later)), 0).In(loc)
	late := time.Unix(w.Unix()-int64(min(before, later)), 0).In(loc)
	if wall(early).Equal(w) {
		return early
	}
	if wall(late).Equal(w) {
		return late
	}
	if before < later { // a gap: early lies before the change, which ends the gap
		_, end := early.ZoneBounds()
		return end.In(loc)
	}
	return late
}

// matchFrom returns the first wall time at or after w (minute-aligned, UTC
// used as a zone-free calendar) that matches c, or zero if none does within
// searchYears.
func (c Cron) matchFrom(w time.Time) time.Time {
	limit := w.Year() + searchYears
	for w.Year() <= limit {
		switch {
		case c.month&(1<<uint(w.Month())) == 0:
			w = time.Date(w.Year(), w.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		case !c.dayMatches(w):
			w = time.Date(w.Year(), w.Month(), w.Day()+1, 0, 0, 0, 0, time.UTC)
		case c.hour&(1<<uint(w.Hour())) == 0:
			w = time.Date(w.Year(), w.Month(), w.Day(), w.Hour()+1, 0, 0, 0, time.UTC)
		case c.minute&(1<<uint(w.Minute())) == 0:
			w = w.Add(time.Minute)
		default:
			return w
		}
	}
	return time.Time{}
}

func (c Cron) dayMatches(w time.Time) bool {
	dom := c.dom&(1<<uint(w.Day())) != 0
	dow := c.dow&(1<<uint(w.Weekday())) != 0
	if c.domStar || c.dowStar {
		return dom && dow
	}
	return dom || dow
}
