package integrity_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/integrity"
	"xbr/shared/repo/repotest"
	"xbr/shared/repoimage/repoimagetest"
	"xbr/shared/testsupport"
	"xbr/shared/xapi/xapisim"
)

// simExport is a real export of a halted simulated VM.
func simExport(t *testing.T) (xapisim.VMInfo, []byte) {
	t.Helper()
	return repoimagetest.ExportHalted(t, 3<<20)
}

// Two restore points share every chunk: a damaged chunk fails both under
// --deep, naming the chunk and the other point; a missing one fails both
// even without --deep; a remote without repository has no points.
func TestRestorePoints(t *testing.T) {
	vm, data := simExport(t)
	cfg := []config.Remote{{Name: "nfs", Type: config.RemoteDir, Path: t.TempDir()},
		{Name: "empty", Type: config.RemoteDir, Path: t.TempDir()}}
	repos := fn.NewRepos(cfg, fn.NewRemotes(cfg, testsupport.OpenDir))
	ctx := context.Background()
	rp, err := repos.Ensure(ctx, "nfs")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	var first, second catalog.ID
	for i, id := range []*catalog.ID{&first, &second} {
		p, _ := repoimagetest.StorePoint(t, rp, vm.UUID, t0.Add(time.Duration(i)*time.Hour), bytes.NewReader(data))
		*id, _ = catalog.NewRepoID("nfs", p.VM, p.Time)
	}

	checkSound(t, repos, first, second)

	keys := repoimagetest.ChunkKeys(t, rp)
	chunk := keys[0][len(keys[0])-64:]
	repotest.FlipByte(t, rp, keys[0])
	if shallow, err := integrity.RemotePoints(ctx, repos, "nfs", integrity.Options{}); err != nil || !shallow[0].OK() {
		t.Errorf("without --deep a damaged chunk that exists passes: %+v, %v", shallow, err)
	}
	res, err := integrity.RemotePoints(ctx, repos, "nfs", integrity.Options{Deep: true})
	if err != nil || len(res) != 2 {
		t.Fatalf("deep: %+v, %v", res, err)
	}
	for i, other := range []catalog.ID{second, first} {
		r := res[i]
		msg := r.ErrorText()
		if !errors.Is(r.Err, integrity.ErrCorrupt) || !strings.Contains(msg, chunk) || !strings.Contains(msg, "damaged") ||
			!strings.Contains(msg, vm.UUID+"/"+other.Timestamp()) {
			t.Errorf("%s: %v; want the damaged chunk %s and the other point named", r.ID, msg, chunk)
		}
		if err := r.Payload("run", "job").Validate(); err != nil {
			t.Errorf("verify.failed of %s: %v", r.ID, err)
		}
	}

	if err := rp.Remote().Delete(ctx, keys[0]); err != nil {
		t.Fatal(err)
	}
	one := integrity.RepoPoint(ctx, repos, second, integrity.Options{})
	if !errors.Is(one.Err, integrity.ErrCorrupt) || !strings.Contains(one.ErrorText(), chunk+" missing") {
		t.Errorf("one point with a missing chunk: %v", one.Err)
	}
	gone, _ := catalog.NewRepoID("nfs", vm.UUID, t0.Add(2*time.Hour))
	if r := integrity.RepoPoint(ctx, repos, gone, integrity.Options{}); r.OK() || !strings.Contains(r.ErrorText(), "does not exist") {
		t.Errorf("a point that does not exist: %v", r.Err)
	}
}

// checkSound: the two points pass and a remote without repository has none.
func checkSound(t *testing.T, repos *fn.Repos, first, second catalog.ID) {
	t.Helper()
	ctx := context.Background()
	res, err := integrity.RemotePoints(ctx, repos, "nfs", integrity.Options{Deep: true})
	if err != nil || len(res) != 2 || !res[0].OK() || !res[1].OK() || res[0].ID != first || res[1].ID != second {
		t.Fatalf("sound points: %+v, %v", res, err)
	}
	if res[0].Bytes != 3<<20 || len(res[0].SHA256) != 64 || res[0].Payload("", "").Validate() != nil {
		t.Errorf("sound point's result %+v", res[0])
	}
	if none, err := integrity.RemotePoints(ctx, repos, "empty", integrity.Options{}); err != nil || len(none) != 0 {
		t.Errorf("remote without repository: %v, %v", none, err)
	}
}
