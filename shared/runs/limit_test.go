package runs_test

import (
	"testing"

	"xbr/shared/runs"
)

// TestLimitersShareOneBucketPerRun: the transfers of one run share a
// bucket, another run has its own, rate_limit 0 has none, and a bucket goes
// once its last user releases it (twice releasing is once).
func TestLimitersShareOneBucketPerRun(t *testing.T) {
	l := runs.NewLimiters()
	a, releaseA := l.Take("run-1", 1<<20)
	b, releaseB := l.Take("run-1", 1<<20)
	c, releaseC := l.Take("run-2", 1<<20)
	if a == nil || a != b || a == c {
		t.Fatalf("buckets: run-1 %p and %p, run-2 %p", a, b, c)
	}
	if none, release := l.Take("run-3", 0); none != nil {
		t.Errorf("rate_limit 0 gave a bucket")
	} else {
		release()
	}
	releaseA()
	releaseA()
	if l.Len() != 2 {
		t.Errorf("%d runs after one of two users of run-1 left, want 2", l.Len())
	}
	releaseB()
	releaseC()
	if l.Len() != 0 {
		t.Errorf("%d buckets left after every release", l.Len())
	}
}
