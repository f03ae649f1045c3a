package metrics

import (
	"fmt"
	"testing"
)

// TestRecentSetIsBounded: the set remembers the last n keys only.
func TestRecentSetIsBounded(t *testing.T) {
	s := newRecentSet(3)
	for i := range 5 {
		if s.add(fmt.Sprint(i)) {
			t.Fatalf("key %d seen before it was added", i)
		}
	}
	if !s.add("4") || !s.add("2") {
		t.Error("a recent key is not remembered")
	}
	if s.add("0") {
		t.Error("the oldest key was not evicted")
	}
	if len(s.keys) != 3 {
		t.Errorf("%d keys held, want 3", len(s.keys))
	}
}
