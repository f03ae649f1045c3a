package prune_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/prune"
	"xbr/shared/bus"
	"xbr/shared/repo"
	"xbr/shared/repo/repotest"
)

func gcFire(t *testing.T, mode string) bus.Event {
	t.Helper()
	run := events.DeriveID("collect", "weekly", t0.Format(time.RFC3339))
	return received(t, run, events.ScheduleDue{RunID: run, Job: "collect", Schedule: "weekly", Mode: mode, FireTime: t0})
}

// TestGCJob: a fire of a gc job collects the repository of each of its
// remotes (here: exactly the 3 chunks of a deleted restore point), reports
// it in xbr.gc.completed and ends the run; a remote without a repository
// has nothing to collect and succeeds too.
func TestGCJob(t *testing.T) {
	for _, kind := range []string{"dir", "s3"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, 1, kind)
			p := w.newPruner(prune.Options{SweepEvery: -1, GCGrace: -1})
			outs, err := p.Handle(ctx, gcFire(t, "gc"))
			if err != nil || len(outs) != 2 {
				t.Fatalf("no repository: %d outs, %v", len(outs), err)
			}
			if c := decodeOut[events.GCCompleted](t, outs[0]); c.Remote != "store" || c.Manifests != 0 || c.ChunksSwept != 0 {
				t.Fatalf("no repository: %+v", c)
			}
			rp := repotest.Init(t, w.remotes["store"], repo.Key{})
			ids := writePoints(t, rp, 2)
			_, first, _ := prune.ParsePointID(ids[0])
			if err := rp.Delete(ctx, first); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1100 * time.Millisecond) // S3 keeps whole seconds (see TestPointsRetentionAndGC)
			outs, err = p.Handle(ctx, gcFire(t, "gc"))
			if err != nil || len(outs) != 2 {
				t.Fatalf("gc: %d outs, %v", len(outs), err)
			}
			c := decodeOut[events.GCCompleted](t, outs[0])
			if c.Manifests != 1 || c.Referenced != 3 || c.ChunksSwept != 3 || c.BytesSwept <= 0 || c.Deferred {
				t.Fatalf("gc.completed = %+v, want 1 manifest, 3 referenced, 3 swept", c)
			}
			if done := decodeOut[events.RunCompleted](t, outs[1]); done.Status != events.StatusSuccess || done.Job != "collect" {
				t.Fatalf("run.completed = %+v", done)
			}
			if rep, err := rp.Verify(ctx, repo.VerifyOptions{Deep: true}); err != nil || rep.Err() != nil {
				t.Fatalf("verify after gc: %v %v", err, rep.Err())
			}
		})
	}
}

// TestGCJobRefusals: a fire of another mode, or for a job that is not a gc
// job, is a permanent error that says why.
func TestGCJobRefusals(t *testing.T) {
	w := newWorld(t, 1, "dir")
	ctx := context.Background()
	if _, err := w.pruner.Collect(ctx, events.ScheduleDue{RunID: "r1", Job: "collect", Schedule: "weekly", Mode: "full", FireTime: t0}); !bus.IsPermanent(err) ||
		!strings.Contains(err.Error(), `reads mode "gc"`) {
		t.Fatalf("fire of mode full: %v", err)
	}
	if _, err := w.pruner.Collect(ctx, events.ScheduleDue{RunID: "r1", Job: "nightly", Schedule: "daily", Mode: "gc", FireTime: t0}); !bus.IsPermanent(err) ||
		!strings.Contains(err.Error(), `whose mode is now "full"`) {
		t.Fatalf("gc fire of a full job: %v", err)
	}
}
