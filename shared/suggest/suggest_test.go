package suggest_test

import (
	"testing"

	"xbr/shared/suggest"
)

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"restore", "restore", 0}, {"restre", "restore", 1}, {"retsore", "restore", 2},
		{"", "run", 3}, {"kitten", "sitting", 3},
	} {
		if got := suggest.Distance(tc.a, tc.b); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestClosest(t *testing.T) {
	known := []string{"restore", "backups", "run", "status"}
	for word, want := range map[string]string{"restre": "restore", "RESTORE": "restore", "backup": "backups", "rn": "run", "frobnicate": ""} {
		got, ok := suggest.Closest(word, known)
		if got != want || ok != (want != "") {
			t.Errorf("Closest(%q) = %q, %v; want %q", word, got, ok, want)
		}
	}
}
