package incremental

import (
	"context"
	"testing"
)

// TestLimitersShareOneBucketPerRun: the reads of one run share one token
// bucket (rate_limit is per run), another run gets its own, and the bucket
// goes once its last user releases it; every byte is counted.
func TestLimitersShareOneBucketPerRun(t *testing.T) {
	l := newLimiters()
	a, releaseA := l.take("run-1", 1<<20)
	b, releaseB := l.take("run-1", 1<<20)
	c, releaseC := l.take("run-2", 1<<20)
	if a == nil || a != b || a == c {
		t.Fatalf("buckets: run-1 %p and %p, run-2 %p", a, b, c)
	}
	if none, release := l.take("run-3", 0); none != nil {
		t.Errorf("rate_limit 0 gave a bucket")
	} else {
		release()
	}
	releaseA()
	releaseA() // a second release is a no-op
	if l.Len() != 2 {
		t.Errorf("%d runs after one of two users of run-1 left, want 2", l.Len())
	}
	releaseB()
	releaseC()
	if l.Len() != 0 {
		t.Errorf("%d buckets left after every release", l.Len())
	}
	m := meter{prog: &progress{}}
	if err := m.account(context.Background(), 3<<20); err != nil || m.prog.n.Load() != 3<<20 {
		t.Errorf("unlimited meter: %v, counted %d", err, m.prog.n.Load())
	}
}
