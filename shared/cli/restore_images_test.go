package cli_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/remote/dir"
	"xbr/shared/repo"
	"xbr/shared/repoimage/repoimagetest"
	"xbr/shared/xapi/xapisim"
)

// exportHalted is a real export of a halted simulated VM.
func exportHalted(t *testing.T) (xapisim.VMInfo, []byte) {
	t.Helper()
	return repoimagetest.ExportHalted(t, 2<<20+512)
}

func TestRestoreDiskImage(t *testing.T) {
	tmp := t.TempDir()
	remoteDir, out := filepath.Join(tmp, "remote"), filepath.Join(tmp, "images")
	for _, d := range []string{remoteDir, out} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(tmp, "xbr.yaml")
	if err := os.WriteFile(cfg, []byte("remotes:\n  - name: nfs\n    type: dir\n    path: "+remoteDir+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	vm, data := exportHalted(t)
	d, err := dir.New("nfs", remoteDir)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := repo.Init(context.Background(), d, repo.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	_, sums := repoimagetest.StorePoint(t, rp, vm.UUID, at, bytes.NewReader(data))
	id, _ := catalog.NewRepoID("nfs", vm.UUID, at)

	code, stdout, stderr := run(t, "restore", id.String(), "--disk-image", out, "--config", cfg)
	if code != 0 {
		t.Fatalf("restore --disk-image: exit %d, stderr %q", code, stderr)
	}
	path := strings.TrimSpace(stdout)
	if filepath.Dir(path) != out || !strings.HasPrefix(filepath.Base(path), vm.UUID+"-20261206T020000Z-") {
		t.Fatalf("printed %q", stdout)
	}
	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if s := sha256.Sum256(img); hex.EncodeToString(s[:]) != sums[0] || len(img) != 2<<20+512 {
		t.Fatalf("image of %d bytes does not match the stored disk", len(img))
	}
	if code, _, stderr := run(t, "restore", id.String(), "--disk-image", out, "--config", cfg); code == 0 || !strings.Contains(stderr, "exists") {
		t.Fatalf("second restore --disk-image: exit %d, stderr %q: want refused", code, stderr)
	}
	full := "nfs:" + vm.UUID + "/20261206T020000Z"
	if code, _, stderr := run(t, "restore", full, "--disk-image", out, "--config", cfg); code != 2 || !strings.Contains(stderr, "full XVA backup") {
		t.Fatalf("restore --disk-image of a full backup: exit %d, stderr %q", code, stderr)
	}
}

func TestVerifyRestorePoints(t *testing.T) {
	tmp := t.TempDir()
	cfg := filepath.Join(tmp, "xbr.yaml")
	if err := os.WriteFile(cfg, []byte("remotes:\n  - name: nfs\n    type: dir\n    path: "+tmp+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	vm, data := exportHalted(t)
	d, err := dir.New("nfs", tmp)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := repo.Init(context.Background(), d, repo.InitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	repoimagetest.StorePoint(t, rp, vm.UUID, at, bytes.NewReader(data))
	id, _ := catalog.NewRepoID("nfs", vm.UUID, at)
	code, out, stderr := run(t, "verify", "--config", cfg, "--remote", "nfs", "--deep", "--no-events")
	if code != 0 || !strings.Contains(out, "ok      "+id.String()) || !strings.Contains(out, "1 verified, 0 failed") {
		t.Fatalf("verify --remote: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	keys := repoimagetest.ChunkKeys(t, rp)
	if err := d.Delete(context.Background(), keys[0]); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run(t, "verify", "--config", cfg, "--no-events", id.String())
	if code != 1 || !strings.Contains(out, "FAILED  "+id.String()) || !strings.Contains(out, keys[0][len(keys[0])-64:]+" missing") {
		t.Fatalf("verify of a point with a missing chunk: exit %d, stdout %q", code, out)
	}
	// --json: the reports are the one document on stdout; the failure is in them, not appended.
	code, out, _ = run(t, "verify", "--config", cfg, "--no-events", "--json", id.String())
	var reports []map[string]any
	if err := json.Unmarshal([]byte(out), &reports); code != 1 || err != nil || len(reports) != 1 || reports[0]["ok"] != false {
		t.Fatalf("verify --json of a point with a missing chunk: exit %d, stdout %q (%v); want one failed report alone", code, out, err)
	}
}

// TestVerifyRemoteUnreadableRepository: when the remote's repository cannot be
// read, verify --remote still reports the full backups it checked, then fails
// naming the repository's error.
func TestVerifyRemoteUnreadableRepository(t *testing.T) {
	tmp := t.TempDir()
	cfg := filepath.Join(tmp, "xbr.yaml")
	if err := os.WriteFile(cfg, []byte("remotes:\n  - name: nfs\n    type: dir\n    path: "+tmp+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	vm, data := exportHalted(t)
	at := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	id, err := catalog.NewID("nfs", vm.UUID, at)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	vmJSON := []byte(`{"uuid":"` + vm.UUID + `","name_label":"vm"}`)
	meta, err := catalog.Metadata{JobID: "nightly", Mode: catalog.ModeFull, ScheduleID: "daily", Timestamp: at.UnixMilli(),
		Version: catalog.MetadataVersion, VM: vmJSON, VMSnapshot: vmJSON, XVA: "./" + id.Timestamp() + catalog.DataSuffix,
		Size: int64(len(data)), Xbr: &catalog.Xbr{Version: "test", SHA256: hex.EncodeToString(sum[:]), Codec: "none"}}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for key, b := range map[string][]byte{id.DataKey(): data, id.MetaKey(): meta, "xbr-repo/config.json": []byte("{not json")} {
		path := filepath.Join(tmp, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, stderr := run(t, "verify", "--config", cfg, "--remote", "nfs", "--no-events")
	if code != 1 || !strings.Contains(out, "ok      "+id.String()) || !strings.Contains(stderr, "restore points of remote nfs not verified: repository on remote nfs") {
		t.Fatalf("verify --remote over an unreadable repository: exit %d, stdout %q, stderr %q; want the full backup's result, then the repository's error", code, out, stderr)
	}
}
