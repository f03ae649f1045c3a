package schedule_test

import (
	"testing"
	"time"

	"xbr/shared/schedule"
)

// FuzzParse: Parse never panics; what it accepts round-trips through String
// and fires strictly after the given time at a minute boundary.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0 2 * * *", "*/15 1-3 * * *", "0 0 13 * 5", "0 0 29 2 *", "@daily", "5/20 * 1,15 JAN-MAR mon-fri"} {
		f.Add(s)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		f.Fatal(err)
	}
	after := time.Date(2026, 10, 25, 0, 59, 30, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr string) {
		c, err := schedule.Parse(expr)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		again, err := schedule.Parse(c.String())
		if err != nil || again.String() != c.String() {
			t.Fatalf("%q -> %q does not round-trip: %v", expr, c.String(), err)
		}
		for _, loc := range []*time.Location{time.UTC, paris} {
			next := c.Next(after, loc)
			if next.IsZero() || !next.After(after) || next.Second() != 0 {
				t.Fatalf("%q in %s: next %v after %v", expr, loc, next, after)
			}
		}
	})
}
