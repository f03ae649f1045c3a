package verify_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"xbr/events"
	"xbr/functions/verify"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/remote/dir"
	"xbr/shared/repo"
	"xbr/shared/repo/repotest"
	"xbr/shared/testsupport"
)

// TestRunCompletedOfAVerifyThatFindsADamagedSharedChunk: a verify job's
// run.completed carries one result per backup and restore point, each failed
// one with its error (up to 4 KiB: the damaged chunk and every other point
// using it). A chunk used by 300 points (one VM's template image over 300
// days, or 20 cloned VMs over 15) goes missing: the run.completed that says
// so is larger than NATS's default max_payload (1 MiB), so it cannot be
// published; the fire is redelivered, verifies everything again and is
// dead-lettered without a run outcome, exactly when the repository is damaged.
func TestRunCompletedOfAVerifyThatFindsADamagedSharedChunk(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, err := dir.New("nfs", root)
	must(t, err)
	rcfg := []config.Remote{{Name: "nfs", Type: config.RemoteDir, Path: root}}
	repos := fn.NewRepos(rcfg, fn.NewRemotes(rcfg, testsupport.OpenDir))
	rp, err := repos.Ensure(ctx, "nfs")
	must(t, err)
	image := repotest.DiskImage(1, repotest.ChunkSize)
	t0 := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	const points = 300
	for i := range points {
		repotest.WritePoint(t, rp, repotest.VMA, t0.Add(time.Duration(i)*time.Hour), image)
	}
	id := repotest.ChunkOf(t, rp, image)
	must(t, rp.Remote().Delete(ctx, repo.Root+"/chunks/"+id[:2]+"/"+id))

	cfg := &config.Config{Jobs: []config.Job{{Name: "check", Mode: config.ModeVerify, Remotes: []string{"nfs"}}}}
	now := t0.Add(24 * 400 * time.Hour)
	h := &verify.Handler{Config: cfg, Remotes: remotes{"nfs": d}, Repos: repos, Now: func() time.Time { return now }}
	due := events.ScheduleDue{RunID: "run-1", Job: "check", Schedule: "weekly", Mode: config.ModeVerify, FireTime: now}
	outs, err := h.Handle(ctx, bus.Event{Received: events.Received{Payload: due}})
	must(t, err)
	last := outs[len(outs)-1]
	if last.Subject != "xbr.run.completed.check.run-1" {
		t.Fatalf("last event %s", last.Subject)
	}
	if n := len(last.Event.Data()); n > server.MAX_PAYLOAD_SIZE {
		t.Fatalf("run.completed of the verify is %d bytes for %d failed points: over NATS's default max_payload %d, it cannot be published",
			n, points, server.MAX_PAYLOAD_SIZE)
	}
}
