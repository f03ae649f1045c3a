package repo_test

import (
	"context"
	"testing"

	"xbr/shared/repo"
)

// A remote whose config.json is gone but which still holds an encrypted repository's
// manifests and chunks is not a new remote: the salt that config.json held is the only way
// to those points' keys, and the mirror target's copy of config.json can bring them back.
// Init (which fn.Repos.Ensure calls on every backup's first look at the remote) creates a
// fresh repository with a new salt over them instead: the same key file opens it, every
// older point then reads as "does not decrypt", and restoring the old config.json now loses
// the points written since.
func TestInitRefusesARemoteHoldingARepositorysPoints(t *testing.T) {
	ctx := context.Background()
	k := mustKey(t)
	rp := initRepo(t, newDir(t), k)
	writePoint(t, rp, vmA, t0, diskImage(70, 2*cs))
	r := rp.Remote()
	if err := r.Delete(ctx, repo.ConfigKey); err != nil {
		t.Fatal(err)
	}
	again, err := repo.Init(ctx, r, repo.InitOptions{ChunkSize: cs, Key: k})
	if err == nil {
		_, merr := again.Manifest(ctx, repo.Point{VM: vmA, Time: t0})
		t.Fatalf("Init over a remote holding restore point %s/%s succeeded; that point now reads: %v", vmA, t0.Format("20060102T150405Z"), merr)
	}
}
