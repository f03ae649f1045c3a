package retention_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"xbr/shared/retention"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden is what a golden file holds: the inputs and the decision, times in the policy's zone
// so a reader sees the local wall time that decides the buckets.
type golden struct {
	Policy goldenPolicy `json:"policy"`
	Input  []goldenItem `json:"input"`
	Keep   []goldenItem `json:"keep"`
	Remove []goldenItem `json:"remove"`
}

type goldenPolicy struct {
	Depth    int    `json:"depth"`
	Daily    int    `json:"daily,omitempty"`
	Weekly   int    `json:"weekly,omitempty"`
	Monthly  int    `json:"monthly,omitempty"`
	Yearly   int    `json:"yearly,omitempty"`
	TimeZone string `json:"time_zone"`
}

type goldenItem struct {
	ID      string   `json:"id"`
	Time    string   `json:"time"`
	Reasons []string `json:"reasons,omitempty"`
}

func goldenItems(items []retention.Item, loc *time.Location, reasons map[string][]string) []goldenItem {
	out := []goldenItem{}
	for _, it := range items {
		out = append(out, goldenItem{ID: it.ID, Time: it.Time.In(loc).Format(time.RFC3339), Reasons: reasons[it.ID]})
	}
	return out
}

func TestGolden(t *testing.T) {
	for _, tc := range cases(t) {
		t.Run(tc.name, func(t *testing.T) {
			d, err := retention.Decide(tc.items, tc.policy)
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if got := ids(d.Keep); !slices.Equal(got, tc.wantKeep) {
				t.Errorf("keep = %v, want %v", got, tc.wantKeep)
			}
			checkPartition(t, tc.items, d)
			loc := tc.policy.Location
			g := golden{
				Policy: goldenPolicy{tc.policy.Depth, tc.policy.Daily, tc.policy.Weekly,
					tc.policy.Monthly, tc.policy.Yearly, loc.String()},
				Input:  goldenItems(tc.items, loc, nil),
				Keep:   goldenItems(d.Keep, loc, d.Reasons),
				Remove: goldenItems(d.Remove, loc, d.Reasons),
			}
			compareGolden(t, filepath.Join("testdata", tc.name+".json"), g)
		})
	}
}

func compareGolden(t *testing.T, path string, g golden) {
	t.Helper()
	got, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the decision (run with -update after checking):\n%s", path, got)
	}
}

func ids(items []retention.Item) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

// checkPartition asserts that Keep and Remove split the input, newest first, and that every
// item has a reason.
func checkPartition(t *testing.T, in []retention.Item, d retention.Decision) {
	t.Helper()
	all := append(slices.Clone(d.Keep), d.Remove...)
	if len(all) != len(in) {
		t.Fatalf("keep %d + remove %d != input %d", len(d.Keep), len(d.Remove), len(in))
	}
	for _, it := range in {
		if !slices.Contains(all, it) {
			t.Errorf("input %s missing from the decision", it.ID)
		}
		if len(d.Reasons[it.ID]) == 0 {
			t.Errorf("%s has no reason", it.ID)
		}
	}
	for _, list := range [][]retention.Item{d.Keep, d.Remove} {
		for i := 1; i < len(list); i++ {
			if list[i].Time.After(list[i-1].Time) {
				t.Errorf("not newest first: %s before %s", list[i-1].ID, list[i].ID)
			}
		}
	}
	if len(in) > 0 && len(d.Keep) == 0 {
		t.Error("everything removed")
	}
}
