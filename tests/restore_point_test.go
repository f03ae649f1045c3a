package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/shared/remote/dir"
	"xbr/shared/repo"
	"xbr/shared/repo/repotest"
	"xbr/shared/repoimage/repoimagetest"
	"xbr/shared/xapi"
)

// TestRestorePointThroughTheCLI is issue 15's restore case end to end: a
// restore point stored in a dir remote's repository (as the incremental
// backup stores one, from a real export) is listed by `xbr backups ls` as
// incremental, restored by a real `xbr serve` through `xbr restore --wait`
// into a VM whose disks are the source's; with one flipped byte in a chunk
// the restore fails with exit 1 and leaves no VM.
func TestRestorePointThroughTheCLI(t *testing.T) {
	rp := startRestorePool(t)
	src := rp.halted(t)
	remoteDir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	repository := storeRestorePoint(t, ctx, rp, src.Ref, src.UUID, remoteDir)
	cfg := filepath.Join(t.TempDir(), "xbr.yaml")
	yaml := fmt.Sprintf("pools:\n  - {name: lab, url: %s, username: %s, password: \"${XBR_TEST_POOL_PASSWORD}\"}\n"+
		"remotes:\n  - {name: nfs, type: dir, path: %s}\n", rp.url, rp.user, remoteDir)
	rsMust(t, os.WriteFile(cfg, []byte(yaml), 0o600))
	s := startServe(t, []string{"XBR_TEST_POOL_PASSWORD=" + rp.pass}, "--config", cfg, "--data-dir", t.TempDir(),
		"--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0")
	nats := s.natsURL(t)
	run := func(args ...string) (string, string, int) { return xbr(t, ctx, nil, append(args, "--nats", nats)...) }

	out, errOut, code := run("backups", "ls", "--json", "--vm", src.UUID)
	var list []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 {
		t.Fatalf("xbr backups ls --json: exit %d\n%s\n%s\nserver:\n%s", code, out, errOut, s.output())
	}
	id := "nfs:xbr-repo/" + src.UUID + "/20261206T020000Z"
	if list[0]["id"] != id || list[0]["mode"] != "incremental" || list[0]["vm_name"] != src.NameLabel {
		t.Fatalf("listed %v, want the restore point %s", list[0], id)
	}
	before := len(rp.sim.VMs())
	out, errOut, code = run("restore", id, "--wait")
	if code != 0 || !strings.Contains(out, "completed: VM") {
		t.Fatalf("xbr restore --wait: exit %d\n%s\n%s\nserver:\n%s", code, out, errOut, s.output())
	}
	restored := rp.restoredVM(t, src.NameLabel+" (20261206T020000Z)")
	if got, want := rp.rawDigests(t, restored.Ref), rp.rawDigests(t, src.Ref); !slices.Equal(got, want) || len(got) != 2 {
		t.Fatalf("restored disks %v, source disks %v", got, want)
	}

	keys := repoimagetest.ChunkKeys(t, repository)
	repotest.FlipByte(t, repository, keys[len(keys)/2])
	vdis := len(rp.sim.Refs("VDI"))
	out, _, code = run("restore", id, "--wait", "--name", "should not exist")
	if code != 1 || !strings.Contains(out, "FAILED") || !strings.Contains(out, "corrupt") {
		t.Fatalf("restore of a damaged point: exit %d\n%s", code, out)
	}
	if len(rp.sim.VMs()) != before+1 || len(rp.sim.Refs("VDI")) != vdis {
		t.Fatalf("the failed restore left objects: %d VMs, %d VDIs (want %d, %d)", len(rp.sim.VMs()), len(rp.sim.Refs("VDI")), before+1, vdis)
	}
}

// storeRestorePoint exports vm and stores it as a restore point of the
// repository it creates on the directory remote at root.
func storeRestorePoint(t *testing.T, ctx context.Context, rp *restorePool, ref, uuid, root string) *repo.Repo {
	t.Helper()
	d, err := dir.New("nfs", root)
	rsMust(t, err)
	repository, err := repo.Init(ctx, d, repo.InitOptions{})
	rsMust(t, err)
	tr, err := rp.c.Export(ctx, xapi.VMRef(ref), xapi.ExportOptions{})
	rsMust(t, err)
	data, err := io.ReadAll(tr)
	tr.Close()
	rsMust(t, err)
	repoimagetest.StorePoint(t, repository, uuid, time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC), bytes.NewReader(data))
	return repository
}
