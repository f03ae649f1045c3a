package retention_test

import (
	"testing"
	"time"

	"xbr/shared/retention"
)

type goldenCase struct {
	name     string
	policy   retention.Policy
	items    []retention.Item
	wantKeep []string // newest first
}

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("time zone %s: %v", name, err)
	}
	return loc
}

// at builds an item from a wall time in loc ("2026-03-29 00:30").
func at(t testing.TB, id, wall string, loc *time.Location) retention.Item {
	t.Helper()
	tm, err := time.ParseInLocation("2006-01-02 15:04", wall, loc)
	if err != nil {
		t.Fatal(err)
	}
	return retention.Item{ID: id, Time: tm}
}

// utc builds an item from an RFC 3339 instant.
func utc(t testing.TB, id, instant string) retention.Item {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, instant)
	if err != nil {
		t.Fatal(err)
	}
	return retention.Item{ID: id, Time: tm}
}

func cases(t *testing.T) []goldenCase {
	paris := zone(t, "Europe/Paris")
	return []goldenCase{
		{
			name:   "depth-only",
			policy: retention.Policy{Depth: 3, Location: time.UTC},
			items: []retention.Item{
				utc(t, "b1", "2026-01-01T02:00:00Z"), utc(t, "b2", "2026-01-02T02:00:00Z"),
				utc(t, "b3", "2026-01-03T02:00:00Z"), utc(t, "b4", "2026-01-04T02:00:00Z"),
				utc(t, "b5", "2026-01-05T02:00:00Z"), utc(t, "b6", "2026-01-06T02:00:00Z"),
			},
			wantKeep: []string{"b6", "b5", "b4"},
		},
		{
			name:   "depth-zero-keeps-all",
			policy: retention.Policy{Location: time.UTC},
			items: []retention.Item{
				utc(t, "b1", "2026-01-01T02:00:00Z"), utc(t, "b2", "2026-01-02T02:00:00Z"),
			},
			wantKeep: []string{"b2", "b1"},
		},
		{
			// Spring forward on 2026-03-29 at 02:00 CET. Backups at 00:30 local are still the
			// previous day in UTC; each must land in its Paris day.
			name:   "dst-march-paris",
			policy: retention.Policy{Depth: 1, Daily: 3, Location: paris},
			items: []retention.Item{
				at(t, "27-2330", "2026-03-27 23:30", paris), at(t, "28-0030", "2026-03-28 00:30", paris),
				at(t, "28-2330", "2026-03-28 23:30", paris), at(t, "29-0030", "2026-03-29 00:30", paris),
				at(t, "29-2330", "2026-03-29 23:30", paris), at(t, "30-0030", "2026-03-30 00:30", paris),
				at(t, "30-2330", "2026-03-30 23:30", paris),
			},
			wantKeep: []string{"30-2330", "30-0030", "29-0030", "28-0030"},
		},
		{
			// Fall back on 2026-10-25 at 03:00 CEST: 02:30 happens twice, both on the 25th.
			name:   "dst-october-paris",
			policy: retention.Policy{Depth: 1, Daily: 2, Location: paris},
			items: []retention.Item{
				utc(t, "24-2330", "2026-10-24T21:30:00Z"), utc(t, "25-0030", "2026-10-24T22:30:00Z"),
				utc(t, "25-0230-cest", "2026-10-25T00:30:00Z"), utc(t, "25-0230-cet", "2026-10-25T01:30:00Z"),
				utc(t, "25-2330", "2026-10-25T22:30:00Z"), utc(t, "26-0030", "2026-10-25T23:30:00Z"),
			},
			wantKeep: []string{"26-0030", "25-0030"},
		},
		{
			// 2026 has 53 ISO weeks: Mon 2026-12-28 .. Sun 2027-01-03 is 2026-W53.
			name:   "year-boundary-paris",
			policy: retention.Policy{Depth: 1, Weekly: 3, Monthly: 2, Yearly: 2, Location: paris},
			items:  dailyAt(t, paris, "2026-12-26 00:30", 11),
			wantKeep: []string{"2027-01-05", "2027-01-04", "2027-01-01",
				"2026-12-28", "2026-12-26"},
		},
		{
			// 23:30 UTC on New Year's Eve is already 2027 in Paris; 2026 then has no backup
			// and does not count, so 2025 is the second yearly bucket.
			name:   "yearly-time-zone",
			policy: retention.Policy{Yearly: 2, Location: paris},
			items: []retention.Item{
				utc(t, "2025-06", "2025-06-01T12:00:00Z"), utc(t, "nye-utc", "2026-12-31T23:30:00Z"),
				utc(t, "2027-01", "2027-01-01T10:00:00Z"),
			},
			wantKeep: []string{"2027-01", "nye-utc", "2025-06"},
		},
		{
			name:   "out-of-order-input",
			policy: retention.Policy{Depth: 2, Daily: 2, Location: time.UTC},
			items: []retention.Item{
				utc(t, "d2-b", "2026-05-02T18:00:00Z"), utc(t, "d1-a", "2026-05-01T06:00:00Z"),
				utc(t, "d3-b", "2026-05-03T18:00:00Z"), utc(t, "d2-a", "2026-05-02T06:00:00Z"),
				utc(t, "d3-c", "2026-05-03T20:00:00Z"), utc(t, "d3-a", "2026-05-03T06:00:00Z"),
			},
			wantKeep: []string{"d3-c", "d3-b", "d3-a", "d2-a"},
		},
		{
			// Equal times: the greater id counts as newer, so depth takes "c" and the daily
			// bucket's oldest is "a".
			name:   "ties",
			policy: retention.Policy{Depth: 1, Daily: 1, Location: time.UTC},
			items: []retention.Item{
				utc(t, "b", "2026-07-01T02:00:00Z"), utc(t, "c", "2026-07-01T02:00:00Z"),
				utc(t, "a", "2026-07-01T02:00:00Z"),
			},
			wantKeep: []string{"c", "a"},
		},
		{
			// Buckets only: the newest is kept although it is not its day's oldest.
			name:   "buckets-only-keep-newest",
			policy: retention.Policy{Daily: 1, Location: time.UTC},
			items: []retention.Item{
				utc(t, "early", "2026-08-01T01:00:00Z"), utc(t, "late", "2026-08-01T23:00:00Z"),
				utc(t, "before", "2026-07-31T12:00:00Z"),
			},
			wantKeep: []string{"late", "early"},
		},
	}
}

// dailyAt returns n items one local day apart from the wall time start, each named by its
// local date.
func dailyAt(t testing.TB, loc *time.Location, start string, n int) []retention.Item {
	t.Helper()
	first := at(t, "", start, loc).Time
	var out []retention.Item
	for i := range n {
		tm := first.AddDate(0, 0, i)
		out = append(out, retention.Item{ID: tm.Format("2006-01-02"), Time: tm})
	}
	return out
}
