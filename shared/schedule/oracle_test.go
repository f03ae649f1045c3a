package schedule_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"xbr/shared/schedule"
)

// TestNextMatchesBruteForce compares Next with a minute-by-minute scan of real
// time that applies the documented rules directly, for random expressions
// around the 2026 transitions.
func TestNextMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	starts := []string{
		"2026-03-28T22:00:00Z", "2026-10-24T21:00:00Z", // Paris
		"2026-03-08T03:00:00Z", "2026-11-01T02:00:00Z", // New York
		"2026-06-15T10:00:00Z",
	}
	compared := 0
	for i := range 120 {
		expr := randomCron(rng)
		c, err := schedule.Parse(expr)
		if err != nil {
			continue // random day/month combinations may never occur
		}
		for _, zone := range []string{"Europe/Paris", "America/New_York"} {
			loc := mustLoad(t, zone)
			start := mustTime(t, starts[i%len(starts)]).Add(time.Duration(rng.IntN(600)) * time.Minute)
			want := bruteNext(c, expr, loc, start, 3*24*60)
			if want.IsZero() {
				continue
			}
			compared++
			if got := c.Next(start, loc); !got.Equal(want) {
				t.Errorf("%q in %s after %v: got %v, want %v", expr, zone, start.In(loc), got, want.In(loc))
			}
		}
	}
	if compared < 100 {
		t.Errorf("only %d comparisons: the generator needs fixing", compared)
	}
	t.Logf("%d comparisons", compared)
}

// bruteNext scans real minutes after start. A fixed-time expression fires at
// the first occurrence of a matching wall time, or at the end of a gap that
// swallowed one; an interval expression fires at every instant whose wall
// time matches.
func bruteNext(c schedule.Cron, expr string, loc *time.Location, start time.Time, minutes int) time.Time {
	fields := strings.Fields(expr)
	interval := strings.HasPrefix(fields[0], "*") || strings.HasPrefix(fields[1], "*")
	seen := map[time.Time]bool{}
	t := start.Truncate(time.Minute).Add(-6 * time.Hour) // learn the walls already seen
	prev := t.Add(-time.Minute).In(loc)
	// Matching wall times, asked of the cron itself in UTC, where every wall
	// time exists exactly once.
	match := map[time.Time]bool{}
	for _, w := range schedule.Fires(c, time.UTC, wallOf(prev).Add(-24*time.Hour), wallOf(prev).Add(time.Duration(minutes+2000)*time.Minute)) {
		match[w] = true
	}
	for range minutes + 360 {
		lt := t.In(loc)
		key := wallOf(lt)
		fire := match[key] && (interval || !seen[key])
		if !interval && lt.Sub(prev) == time.Minute && wallGap(prev, lt) > time.Minute {
			for w := wallOf(prev).Add(time.Minute); w.Before(wallOf(lt)); w = w.Add(time.Minute) {
				fire = fire || match[w]
			}
		}
		seen[key] = true
		if fire && t.After(start) {
			return lt
		}
		prev, t = lt, t.Add(time.Minute)
	}
	return time.Time{}
}

func wallOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), 0, 0, time.UTC)
}

func wallGap(a, b time.Time) time.Duration { return wallOf(b).Sub(wallOf(a)) }

func randomCron(rng *rand.Rand) string {
	pick := func(opts ...string) string { return opts[rng.IntN(len(opts))] }
	minute := pick("*", "0", "30", "*/15", "*/7", "0,30", "5-10", "45", "10-50/20")
	hour := pick("*", "2", "1", "1-3", "*/2", "2,3", "0-4", "3")
	dom := pick("*", "*", "*", "8", "25", "1-15", "29")
	month := pick("*", "*", "MAR", "OCT,NOV", "3-11")
	dow := pick("*", "*", "*", "SUN", "0", "7", "MON-FRI", "6")
	return fmt.Sprintf("%s %s %s %s %s", minute, hour, dom, month, dow)
}
