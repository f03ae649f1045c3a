package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xbr/shared/remote/dir"
	"xbr/shared/repo"
)

func TestRepoKeyAndInit(t *testing.T) {
	tmp := t.TempDir()
	remoteDir := filepath.Join(tmp, "remote")
	if err := os.Mkdir(remoteDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(tmp, "xbr.yaml")
	if err := os.WriteFile(cfg, []byte("remotes:\n  - name: nfs\n    type: dir\n    path: "+remoteDir+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(tmp, "repo.key")
	if code, out, errOut := run(t, "repo", "key", "--out", keyFile); code != 0 || !strings.Contains(out, keyFile) {
		t.Fatalf("repo key: exit %d, %q %q", code, out, errOut)
	}
	code, out, errOut := run(t, "repo", "init", "--config", cfg, "--remote", "nfs", "--encryption-key-file", keyFile, "--chunk-size", "2MiB")
	if code != 0 || !strings.Contains(out, "encrypted") || !strings.Contains(out, "2.0 MiB") {
		t.Fatalf("repo init: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	key, err := repo.ReadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := dir.New("nfs", remoteDir)
	rp, err := repo.Open(context.Background(), d, key)
	if err != nil || rp.Config().ChunkSize != 2<<20 {
		t.Fatalf("open the new repository: %v", err)
	}
	if code, _, errOut := run(t, "repo", "init", "--config", cfg, "--remote", "nfs"); code == 0 || !strings.Contains(errOut, "exists") {
		t.Fatalf("second init: exit %d, stderr %q: want refused", code, errOut)
	}
}
