package verify_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/functions/verify"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/integrity"
	"xbr/shared/testsupport"
)

// TestVerifyQueryKeepsFullBackupsBesideAnUnreadableRepository: `xbr verify
// --remote` through a server reports the remote's full backups even when its
// incremental repository cannot be read, and that repository as a failure
// saying why; before, the whole answer was the repository's error.
func TestVerifyQueryKeepsFullBackupsBesideAnUnreadableRepository(t *testing.T) {
	w := newPointsWorld(t)
	must(t, os.WriteFile(filepath.Join(w.d.Root(), "xbr-repo", "config.json"), []byte("{damaged"), 0o600))
	conn := testsupport.StartNATS(t)
	rcfg := []config.Remote{{Name: "nfs", Type: config.RemoteDir, Path: w.d.Root()}}
	remotes := fn.NewRemotes(rcfg, testsupport.OpenDir)
	env := &fn.Env{Config: &config.Config{Remotes: rcfg}, Conn: conn, Log: slog.New(slog.DiscardHandler), Now: time.Now,
		Remotes: remotes, Repos: fn.NewRepos(rcfg, remotes), API: verify.API()}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- fn.ServeAPI(ctx, env) }()
	t.Cleanup(func() { cancel(); <-served })

	var reports []integrity.Report
	var err error
	testsupport.Eventually(t, 10*time.Second, "the verify query answered", func() bool {
		actx, acancel := context.WithTimeout(ctx, 5*time.Second)
		defer acancel()
		reports, err = fn.Ask(actx, conn.NATS(), env.Subjects, integrity.QueryVerify, integrity.Request{Remote: "nfs"})
		return err == nil || !strings.Contains(err.Error(), "no xbr server answered")
	})
	must(t, err)
	var full, repo *integrity.Report
	for i, r := range reports {
		switch r.ID {
		case w.full:
			full = &reports[i]
		case "nfs:xbr-repo":
			repo = &reports[i]
		}
	}
	if full == nil || !full.OK {
		t.Fatalf("reports %+v: want the full backup %s verified", reports, w.full)
	}
	if repo == nil || repo.OK || !strings.Contains(repo.Error, "cannot be verified") {
		t.Fatalf("reports %+v: want nfs:xbr-repo failed, saying it cannot be verified", reports)
	}
}
