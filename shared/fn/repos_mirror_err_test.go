package fn_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/remote"
	"xbr/shared/repo"
	"xbr/shared/testsupport"
)

// failingCreate is a remote whose writes all fail (a full or read-only target).
type failingCreate struct{ remote.Remote }

var errQuota = errors.New("quota exceeded")

func (failingCreate) Create(context.Context, string, int64) (remote.Upload, error) {
	return nil, errQuota
}

// When EnsureMirror cannot create the target's repository (its config.json
// cannot be written), the error says why. Today the failure is dropped and
// replaced by the error of the fallback Open: "not found", which sends the
// operator looking for a missing repository instead of a full target.
func TestEnsureMirrorKeepsTheInitError(t *testing.T) {
	ctx := context.Background()
	keyFile := filepath.Join(t.TempDir(), "xbr.key")
	k, err := repo.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := repo.WriteKeyFile(keyFile, k); err != nil {
		t.Fatal(err)
	}
	cfg := []config.Remote{
		{Name: "nfs", Type: config.RemoteDir, Path: t.TempDir(), EncryptionKeyFile: keyFile},
		{Name: "off", Type: config.RemoteDir, Path: t.TempDir(), EncryptionKeyFile: keyFile},
	}
	open := func(ctx context.Context, c config.Remote) (remote.Remote, error) {
		r, err := testsupport.OpenDir(ctx, c)
		if err != nil || c.Name != "off" {
			return r, err
		}
		return failingCreate{r}, nil
	}
	repos := fn.NewRepos(cfg, fn.NewRemotes(cfg, open))
	src, err := repos.Ensure(ctx, "nfs")
	if err != nil {
		t.Fatal(err)
	}
	_, err = repos.EnsureMirror(ctx, "off", src)
	if err == nil || !errors.Is(err, errQuota) && !strings.Contains(err.Error(), errQuota.Error()) {
		t.Fatalf("EnsureMirror on a target that refuses writes: %v, want the write's error (%v)", err, errQuota)
	}
}

// The same for Ensure, a backup's first run on a new remote: a config.json
// that cannot be written fails the run with "no incremental repository on
// this remote" instead of the write's error.
func TestEnsureKeepsTheInitError(t *testing.T) {
	ctx := context.Background()
	cfg := []config.Remote{{Name: "off", Type: config.RemoteDir, Path: t.TempDir()}}
	open := func(ctx context.Context, c config.Remote) (remote.Remote, error) {
		r, err := testsupport.OpenDir(ctx, c)
		return failingCreate{r}, err
	}
	_, err := fn.NewRepos(cfg, fn.NewRemotes(cfg, open)).Ensure(ctx, "off")
	if err == nil || !strings.Contains(err.Error(), errQuota.Error()) {
		t.Fatalf("Ensure on a remote that refuses writes: %v, want the write's error (%v)", err, errQuota)
	}
}
