package export_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/export"
	"xbr/shared/catalog"
	"xbr/shared/remote"
)

// TestRetrySweepKeepsAnotherRunsClaim on S3: run-1's first attempt was
// stamped T and, failing, released its claim of T (as every attempt does);
// run-2, a job of the same VM started in that same second, then claimed T
// and is writing it (its .xva committed, its .json not yet). run-1's retry
// sweeps the leftovers of its recorded time T: it must not take run-2's
// claim or its data, since T's claim is run-2's, not run-1's.
func TestRetrySweepKeepsAnotherRunsClaim(t *testing.T) {
	e := newEnv(t, 1, `  - name: nightly
    pools: [lab]
    remotes: [gateway]
    schedules: [{name: daily, cron: "0 2 * * *", retention: 3}]
`, true)
	ctx := context.Background()
	at := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	e.deps.Now = func() time.Time { return at.Add(time.Minute) }
	r := e.remotes["gateway"]
	req := startRun(t, e, "nightly", "run-1")
	req.Remotes = []string{"gateway"}
	first, _ := catalog.NewID("gateway", req.VMUUID, at)
	if _, err := e.coord.RecordAttempt(ctx, req.RunID, req.VMUUID, first.Timestamp()); err != nil {
		t.Fatal(err)
	}
	// run-2 holds T now and has committed its .xva.
	if err := catalog.Claim(ctx, r, first, "run-2"); err != nil {
		t.Fatal(err)
	}
	if err := remote.PutNew(ctx, r, first.DataKey(), []byte("run-2's xva")); err != nil {
		t.Fatal(err)
	}
	outs, err := export.NewWorker(e.deps).Handle(ctx, requested(t, req, 2))
	if err != nil || len(outs) != 1 || outs[0].Event.Type() != string(events.TypeExportCompleted) {
		t.Fatalf("Handle: %v %+v", err, outs)
	}
	if _, err := r.Stat(ctx, first.ClaimKey()); errors.Is(err, remote.ErrNotFound) {
		t.Errorf("run-1's retry released run-2's claim %s (a third writer may now take that second)", first.ClaimKey())
	}
	if _, err := r.Stat(ctx, first.DataKey()); errors.Is(err, remote.ErrNotFound) {
		t.Errorf("run-1's retry deleted %s, the .xva run-2 is writing", first.DataKey())
	}
}
