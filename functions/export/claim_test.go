package export_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/export"
	"xbr/shared/catalog"
	"xbr/shared/remote"
)

// TestClaimsLeftByCrashes on S3: a crashed writer of another run left its
// claim on the current second, and a crashed attempt of this run left the
// claim of its recorded time. The redelivered request is not blocked: it
// takes the next second, removes its own old claim, keeps the other's (the
// sweep's, once old) and leaves no claim of its backup behind.
func TestClaimsLeftByCrashes(t *testing.T) {
	e := newEnv(t, 1, `  - name: nightly
    pools: [lab]
    remotes: [gateway]
    schedules: [{name: daily, cron: "0 2 * * *", retention: 3}]
`, true)
	ctx := context.Background()
	at := time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC)
	e.deps.Now = func() time.Time { return at }
	r := e.remotes["gateway"]
	req := startRun(t, e, "nightly", "run-1")
	req.Remotes = []string{"gateway"}
	crashed, _ := catalog.NewID("gateway", req.VMUUID, at.Add(-time.Hour))
	if _, err := e.coord.RecordAttempt(ctx, req.RunID, req.VMUUID, crashed.Timestamp()); err != nil {
		t.Fatal(err)
	}
	other, _ := catalog.NewID("gateway", req.VMUUID, at)
	for _, c := range []struct {
		id    catalog.ID
		owner string
	}{{crashed, req.RunID}, {other, "run-dead"}} {
		if err := catalog.Claim(ctx, r, c.id, c.owner); err != nil {
			t.Fatal(err)
		}
	}
	outs, err := export.NewWorker(e.deps).Handle(ctx, requested(t, req, 2))
	if err != nil || len(outs) != 1 || outs[0].Event.Type() != string(events.TypeExportCompleted) {
		t.Fatalf("Handle: %v %+v", err, outs)
	}
	bs := list(t, r)
	if len(bs) != 1 || !bs[0].Timestamp.Equal(at.Add(time.Second)) {
		t.Fatalf("backups %+v, want one at %s (the next second)", bs, at.Add(time.Second))
	}
	e.assertBackup(r, bs[0], "nightly", "daily", "gzip")
	if got := claimKeys(t, r); !slices.Equal(got, []string{other.ClaimKey()}) {
		t.Errorf("claims left %v, want only the other run's %s", got, other.ClaimKey())
	}
}

func claimKeys(t *testing.T, r remote.Remote) []string {
	t.Helper()
	infos, err := r.List(context.Background(), catalog.ClaimsFolder)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, in := range infos {
		keys = append(keys, in.Key)
	}
	return keys
}
