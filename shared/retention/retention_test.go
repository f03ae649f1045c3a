package retention_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/shared/retention"
)

func TestDecideRejects(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		items  []retention.Item
		policy retention.Policy
		want   string
	}{
		{"negative depth", nil, retention.Policy{Depth: -1}, "depth -1"},
		{"negative weekly", nil, retention.Policy{Weekly: -2}, "weekly -2"},
		{"empty id", []retention.Item{{ID: "", Time: t0}}, retention.Policy{Depth: 1}, "empty id"},
		{"duplicate id", []retention.Item{{ID: "x", Time: t0}, {ID: "y", Time: t0.Add(time.Hour)}, {ID: "x", Time: t0.Add(2 * time.Hour)}},
			retention.Policy{Depth: 1}, `duplicate id "x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := retention.Decide(tc.items, tc.policy)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	_, err := retention.Decide([]retention.Item{{ID: "x", Time: t0}, {ID: "x", Time: t0}}, retention.Policy{})
	if !errors.Is(err, retention.ErrDuplicateID) {
		t.Errorf("same id and time: err = %v, want ErrDuplicateID", err)
	}
}

func TestDecideEmpty(t *testing.T) {
	d, err := retention.Decide(nil, retention.Policy{Depth: 3, Daily: 7})
	if err != nil || len(d.Keep) != 0 || len(d.Remove) != 0 {
		t.Fatalf("Decide(nil) = %+v, %v", d, err)
	}
}

// The same backups bucketed in UTC and in Paris keep different days: the zone matters.
func TestZoneChangesDays(t *testing.T) {
	var dst goldenCase
	for _, c := range cases(t) {
		if c.name == "dst-march-paris" {
			dst = c
		}
	}
	p := dst.policy
	p.Location = nil // UTC
	d, err := retention.Decide(dst.items, p)
	if err != nil {
		t.Fatal(err)
	}
	// In UTC, 00:30 Paris is the previous day, so each day's oldest is the 23:30 backup.
	if want := []string{"30-2330", "29-2330", "28-2330"}; !slices.Equal(ids(d.Keep), want) {
		t.Errorf("UTC keep = %v, want %v", ids(d.Keep), want)
	}
}

func TestBucketKey(t *testing.T) {
	paris := zone(t, "Europe/Paris")
	tests := []struct {
		kind, instant string
		loc           *time.Location
		want          string
	}{
		{"daily", "2026-03-28T23:30:00Z", paris, "2026-03-29"},
		{"daily", "2026-03-28T23:30:00Z", nil, "2026-03-28"},
		{"weekly", "2026-12-31T12:00:00Z", paris, "2026-W53"},
		{"weekly", "2027-01-03T22:59:00Z", paris, "2026-W53"},
		{"weekly", "2027-01-03T23:00:00Z", paris, "2027-W01"},
		{"weekly", "2025-12-29T12:00:00Z", nil, "2026-W01"},
		{"monthly", "2026-10-31T23:30:00Z", paris, "2026-11"},
		{"yearly", "2026-12-31T23:30:00Z", paris, "2027"},
		{"yearly", "2026-12-31T23:30:00Z", time.UTC, "2026"},
	}
	for _, tc := range tests {
		tm, _ := time.Parse(time.RFC3339, tc.instant)
		got, err := retention.BucketKey(tc.kind, tm, tc.loc)
		if err != nil || got != tc.want {
			t.Errorf("BucketKey(%s, %s, %v) = %q, %v; want %q", tc.kind, tc.instant, tc.loc, got, err, tc.want)
		}
	}
	if _, err := retention.BucketKey("hourly", time.Now(), nil); err == nil || !strings.Contains(err.Error(), `"hourly"`) {
		t.Errorf("unknown kind: err = %v", err)
	}
}

// Random inputs: the decision partitions the input, ignores input order, always keeps the
// newest, keeps at least min(depth, n), and keeps at most depth + the bucket counts + 1.
func TestDecideProperties(t *testing.T) {
	paris := zone(t, "Europe/Paris")
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		items := randomItems(rng, rng.IntN(60))
		p := retention.Policy{Depth: rng.IntN(5), Daily: rng.IntN(4), Weekly: rng.IntN(3),
			Monthly: rng.IntN(3), Yearly: rng.IntN(2), Location: paris}
		d, err := retention.Decide(items, p)
		if err != nil {
			t.Fatal(err)
		}
		checkPartition(t, items, d)
		shuffled := slices.Clone(items)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		d2, err := retention.Decide(shuffled, p)
		if err != nil || !reflect.DeepEqual(d, d2) {
			t.Fatalf("round %d: decision depends on input order", round)
		}
		if len(items) == 0 {
			continue
		}
		if newest := slices.MaxFunc(items, func(a, b retention.Item) int { return a.Time.Compare(b.Time) }); !slices.ContainsFunc(d.Keep, func(it retention.Item) bool { return it.Time.Equal(newest.Time) }) {
			t.Fatalf("round %d: newest %s removed", round, newest.ID)
		}
		if len(d.Keep) < min(p.Depth, len(items)) {
			t.Fatalf("round %d: kept %d < depth %d", round, len(d.Keep), p.Depth)
		}
		if limit := p.Depth + p.Daily + p.Weekly + p.Monthly + p.Yearly + 1; p.Depth+p.Daily+p.Weekly+p.Monthly+p.Yearly > 0 && len(d.Keep) > limit {
			t.Fatalf("round %d: kept %d > %d", round, len(d.Keep), limit)
		}
	}
}

func randomItems(rng *rand.Rand, n int) []retention.Item {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var items []retention.Item
	for i := range n {
		// Spread over ~2 years with some exact ties.
		tm := base.Add(time.Duration(rng.IntN(700*24)) * time.Hour)
		items = append(items, retention.Item{ID: fmt.Sprintf("i%03d", i), Time: tm})
	}
	return items
}

func BenchmarkDecide10k(b *testing.B) {
	paris := zone(b, "Europe/Paris")
	base := time.Date(2020, 1, 1, 1, 30, 0, 0, time.UTC)
	items := make([]retention.Item, 10000)
	for i := range items {
		// Four backups a day for ~7 years.
		items[i] = retention.Item{ID: fmt.Sprintf("b%05d", i), Time: base.Add(time.Duration(i) * 6 * time.Hour)}
	}
	p := retention.Policy{Depth: 7, Daily: 7, Weekly: 4, Monthly: 12, Yearly: 3, Location: paris}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := retention.Decide(items, p); err != nil {
			b.Fatal(err)
		}
	}
}
