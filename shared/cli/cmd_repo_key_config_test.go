package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"xbr/shared/remote/dir"
	"xbr/shared/repo"
)

// `xbr repo init --remote nfs` on a remote whose configuration names an
// encryption_key_file must create the repository encrypted with that key (or
// refuse): the README offers the config key and the flag as alternatives, and
// every backup opens the repository with the configured key. Today init reads
// only the flag and creates a plain repository, which every backup then
// refuses ("not encrypted, but an encryption key was given").
func TestRepoInitUsesTheConfiguredKeyFile(t *testing.T) {
	tmp := t.TempDir()
	remoteDir := filepath.Join(tmp, "remote")
	if err := os.Mkdir(remoteDir, 0o755); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(tmp, "nfs.key")
	if code, out, errOut := run(t, "repo", "key", "--out", keyFile); code != 0 {
		t.Fatalf("repo key: exit %d, %q %q", code, out, errOut)
	}
	cfg := filepath.Join(tmp, "xbr.yaml")
	yaml := "remotes:\n  - name: nfs\n    type: dir\n    path: " + remoteDir + "\n    encryption_key_file: " + keyFile + "\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "repo", "init", "--config", cfg, "--remote", "nfs")
	d, _ := dir.New("nfs", remoteDir)
	if code != 0 { // refusing is fine too: nothing was written
		if _, err := d.Stat(context.Background(), repo.ConfigKey); err == nil {
			t.Fatalf("repo init failed (exit %d, %q) but left a repository", code, errOut)
		}
		return
	}
	key, err := repo.ReadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Open(context.Background(), d, key); err != nil {
		t.Fatalf("repo init on a remote configured with encryption_key_file printed %q; opening it with that key: %v", out, err)
	}
}

// The same for chunk_size: `xbr repo init --remote nfs` without --chunk-size
// creates chunks of 1 MiB on a remote configured with chunk_size: 256KiB,
// which the first backup would have honoured.
func TestRepoInitUsesTheConfiguredChunkSize(t *testing.T) {
	tmp := t.TempDir()
	remoteDir := filepath.Join(tmp, "remote")
	if err := os.Mkdir(remoteDir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(tmp, "xbr.yaml")
	yaml := "remotes:\n  - name: nfs\n    type: dir\n    path: " + remoteDir + "\n    chunk_size: 256KiB\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := run(t, "repo", "init", "--config", cfg, "--remote", "nfs"); code != 0 {
		t.Fatalf("repo init: exit %d, %q", code, errOut)
	}
	d, _ := dir.New("nfs", remoteDir)
	rp, err := repo.Open(context.Background(), d, repo.Key{})
	if err != nil {
		t.Fatal(err)
	}
	if cs := rp.Config().ChunkSize; cs != 256<<10 {
		t.Fatalf("repo init on a remote configured with chunk_size 256KiB made chunks of %d bytes", cs)
	}
}
