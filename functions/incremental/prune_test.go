package incremental_test

import (
	"context"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/prune"
)

// TestPruneSweepKeepsBases: prune's sweep of leftovers (temp files,
// orphan data files, temporary snapshots), run with every age limit
// passed, removes no changed-block base, no repository chunk and no point:
// the next run still reads by changed blocks.
func TestPruneSweepKeepsBases(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "nbd", "enable", false)
	first := e.run()
	later := func() time.Time { return time.Now().Add(30 * 24 * time.Hour) }
	p := prune.New(e.cfg.Jobs, e.rems, nil, poolMap{"lab": e.client}, events.Subjects{},
		prune.Options{Now: later, SweepAfter: time.Nanosecond, TempSnapshotAfter: time.Nanosecond, SweepEvery: -1})
	if _, err := p.Sweep(ctx, "sweep-test", []string{"repo"}, []string{"lab"}); err != nil {
		t.Fatal(err)
	}
	e.assertBases(2)
	e.assertPoint(first)
	e.guestWrite(e.liveDisks()[0], 0, 4096, 9)
	if next := e.run(); next.Path != events.PathCBT {
		t.Fatalf("run after the sweep: path %s (%s)", next.Path, next.PathReason)
	}
}
