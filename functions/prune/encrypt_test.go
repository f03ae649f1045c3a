package prune_test

import (
	"context"
	"strings"
	"testing"

	"xbr/events"
	"xbr/functions/prune"
	"xbr/shared/repo"
	"xbr/shared/repo/repotest"
)

// TestWrongKeyIsRefusedClearly: an encrypted repository opened with another
// key (the remote's encryption_key_file replaced) is refused, and the events
// say so in their error — the GC of a gc job and the retention after a
// backup — without a word of either key; nothing is deleted or swept.
func TestWrongKeyIsRefusedClearly(t *testing.T) {
	for _, kind := range []string{"dir", "s3"} {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, 1, kind)
			right, wrong := repotest.NewKey(t), repotest.NewKey(t)
			rp := repotest.Init(t, w.remotes["store"], right)
			ids := writePoints(t, rp, 5)
			w.repos.key = wrong
			p := w.newPruner(prune.Options{SweepEvery: -1, GCGrace: -1})
			const want = "the encryption key does not match this repository"
			outs, err := p.Handle(ctx, gcFire(t, "gc"))
			if err != nil || len(outs) != 2 {
				t.Fatalf("gc: %d outs, %v", len(outs), err)
			}
			f := decodeOut[events.GCFailed](t, outs[0])
			if !strings.Contains(f.Error, want) || f.ChunksSwept != 0 {
				t.Fatalf("gc.failed = %+v, want an error with %q", f, want)
			}
			if done := decodeOut[events.RunCompleted](t, outs[1]); done.Status != events.StatusFailure {
				t.Fatalf("run.completed = %+v", done)
			}
			outs, err = p.Points(ctx, "t1", pointsDone(ids[4]))
			if err != nil || len(outs) != 1 {
				t.Fatalf("prune: %d outs, %v", len(outs), err)
			}
			pf := decodeOut[events.PruneFailed](t, outs[0])
			if !strings.Contains(pf.Error, want) || len(pf.Deleted) != 0 {
				t.Fatalf("prune.failed = %+v, want an error with %q", pf, want)
			}
			for _, k := range []repo.Key{right, wrong} {
				if strings.Contains(f.Error+pf.Error, strings.TrimSpace(string(repo.EncodeKey(k)))) {
					t.Fatalf("a key is in an event's error")
				}
			}
			if pts, err := rp.List(ctx, ""); err != nil || len(pts) != 5 {
				t.Fatalf("points after the refusals: %v, %v", pts, err)
			}
		})
	}
}
