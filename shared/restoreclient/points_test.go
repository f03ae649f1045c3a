package restoreclient_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/remote"
	"xbr/shared/repoimage/repoimagetest"
	"xbr/shared/restoreclient"
	"xbr/shared/testsupport"
	"xbr/shared/xapi/xapisim"
)

// simXVA is a real export of a halted simulated VM.
func simXVA(t *testing.T) (xapisim.VMInfo, []byte) {
	t.Helper()
	return repoimagetest.ExportHalted(t, 2<<20)
}

// Restore points are listed beside full backups, marked incremental; a
// remote without repository has none; a damaged manifest is a problem.
func TestListRepositoryPoints(t *testing.T) {
	vm, data := simXVA(t)
	nfs, plain := t.TempDir(), t.TempDir()
	t0 := time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
	put(t, nfs, vm.UUID, vm.NameLabel, t0, true)
	cfg := []config.Remote{{Name: "nfs", Type: config.RemoteDir, Path: nfs}, {Name: "plain", Type: config.RemoteDir, Path: plain}}
	rs := fn.NewRemotes(cfg, testsupport.OpenDir)
	repos := fn.NewRepos(cfg, rs)
	ctx := context.Background()
	rp, err := repos.Ensure(ctx, "nfs")
	if err != nil {
		t.Fatal(err)
	}
	repoimagetest.StorePoint(t, rp, vm.UUID, t0, bytes.NewReader(data)) // the same second as the full one
	repoimagetest.StorePoint(t, rp, vm.UUID, t0.Add(time.Hour), bytes.NewReader(data))

	l, err := restoreclient.List(ctx, rs, repos, restoreclient.Query{VM: vm.UUID})
	if err != nil || len(l.Problems) != 0 {
		t.Fatalf("List: %v, problems %v", err, l.Problems)
	}
	var got []string
	for _, b := range l.Backups {
		got = append(got, b.Mode+" "+b.ID.String())
		if b.VMName != vm.NameLabel || b.VMUUID != vm.UUID {
			t.Errorf("%s: vm %q %s, want %q %s", b.ID, b.VMName, b.VMUUID, vm.NameLabel, vm.UUID)
		}
		if b.Mode == catalog.ModeIncremental && (b.Size != 2<<20 || !b.ID.Repo) {
			t.Errorf("%s: size %d, repo %v", b.ID, b.Size, b.ID.Repo)
		}
	}
	want := []string{"incremental nfs:xbr-repo/" + vm.UUID + "/20261201T030000Z",
		"incremental nfs:xbr-repo/" + vm.UUID + "/20261201T020000Z", "full nfs:" + vm.UUID + "/20261201T020000Z"}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %q, want %q", got, want)
	}

	id, _ := catalog.NewRepoID("nfs", vm.UUID, t0)
	if b, err := restoreclient.Point(ctx, repos, id); err != nil || b.ID != id || b.Mode != catalog.ModeIncremental {
		t.Fatalf("Point(%s) = %+v, %v", id, b, err)
	}
	for _, missing := range []string{"nfs:xbr-repo/" + vm.UUID + "/20261201T040000Z", "plain:xbr-repo/" + vm.UUID + "/20261201T020000Z"} {
		id, _ := catalog.ParseID(missing)
		if _, err := restoreclient.Point(ctx, repos, id); !errors.Is(err, remote.ErrNotFound) {
			t.Errorf("Point(%s): %v, want remote.ErrNotFound", missing, err)
		}
	}

	manifest := filepath.Join(nfs, "xbr-repo", "vms", vm.UUID, "20261201T030000Z.json")
	if err := os.WriteFile(manifest, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err = restoreclient.List(ctx, rs, repos, restoreclient.Query{})
	if err != nil || len(l.Backups) != 2 || len(l.Problems) != 1 || !strings.Contains(l.Problems[0], "20261201T030000Z") {
		t.Fatalf("with a damaged manifest: %d backups, problems %q, %v", len(l.Backups), l.Problems, err)
	}
}
