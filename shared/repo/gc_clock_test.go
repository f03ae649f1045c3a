package repo_test

import (
	"context"
	"testing"
	"time"

	"xbr/shared/remote"
	"xbr/shared/repo"
)

// TestGCKeepsUploadsInProgressWhenItsClockIsAhead: a GC host whose clock runs
// two hours ahead must not take another writer's upload in progress (a temp
// written a moment ago by the remote's clock) for a crashed one's: host
// clocks never matter, only the remote's times do. The upload still commits
// after the GC.
func TestGCKeepsUploadsInProgressWhenItsClockIsAhead(t *testing.T) {
	ctx := context.Background()
	d := newDir(t)
	ahead := func() time.Time { return time.Now().Add(2 * time.Hour) }
	rp := initRepo(t, d, repo.Key{}, repo.WithClock(ahead))
	up, err := d.Create(ctx, repo.Root+"/chunks/ab/in-progress", -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := up.Write([]byte("half a chunk")); err != nil {
		t.Fatal(err)
	}
	rep, err := rp.GC(ctx, repo.GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	temps, err := d.(remote.Sweeper).ListTemp(ctx, repo.Root+"/")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Temps != 0 || len(temps) != 1 {
		t.Fatalf("GC on a host 2h ahead removed %d incomplete uploads, %d left; want the one in progress kept", rep.Temps, len(temps))
	}
	if err := up.Commit(ctx); err != nil {
		t.Fatalf("the upload in progress after the GC: %v", err)
	}
}
