package fn_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/repo"
	"xbr/shared/testsupport"
)

func TestReposOpenEnsureAndKeys(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keyFile := filepath.Join(t.TempDir(), "xbr.key")
	k, err := repo.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.WriteKeyFile(keyFile, k); err != nil {
		t.Fatal(err)
	}
	enc := config.Remote{Name: "nfs", Type: config.RemoteDir, Path: dir, ChunkSize: 256 << 10, EncryptionKeyFile: keyFile}
	repos := func(c config.Remote) *fn.Repos {
		cfg := []config.Remote{c}
		return fn.NewRepos(cfg, fn.NewRemotes(cfg, testsupport.OpenDir))
	}
	if _, err := repos(enc).Open(ctx, "nfs"); !errors.Is(err, fn.ErrNoRepository) {
		t.Fatalf("Open before any backup: %v, want ErrNoRepository", err)
	}
	rp, err := repos(enc).Ensure(ctx, "nfs")
	if err != nil {
		t.Fatal(err)
	}
	if c := rp.Config(); c.ChunkSize != 256<<10 || c.Encryption == nil {
		t.Errorf("created repository: chunk size %d, encryption %v; want 256 KiB, encrypted", c.ChunkSize, c.Encryption)
	}
	if _, err := repos(enc).Open(ctx, "nfs"); err != nil {
		t.Errorf("Open with the key: %v", err)
	}
	plain := enc
	plain.EncryptionKeyFile = ""
	if _, err := repos(plain).Open(ctx, "nfs"); err == nil || !strings.Contains(err.Error(), "encryption key file is needed") {
		t.Errorf("Open without the key: %v, want an error asking for the key file", err)
	}
	other, err := repo.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	wrong := enc
	wrong.EncryptionKeyFile = filepath.Join(t.TempDir(), "wrong.key")
	if err := repo.WriteKeyFile(wrong.EncryptionKeyFile, other); err != nil {
		t.Fatal(err)
	}
	if _, err := repos(wrong).Open(ctx, "nfs"); !errors.Is(err, repo.ErrWrongKey) {
		t.Errorf("Open with another key: %v, want ErrWrongKey", err)
	}
	if _, err := repos(enc).Open(ctx, "other"); err == nil {
		t.Error("Open of an unconfigured remote succeeded")
	}
}
