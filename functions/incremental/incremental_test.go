package incremental_test

import (
	"context"
	"path/filepath"
	"testing"

	"xbr/events"
	"xbr/shared/repo"
)

// TestFirstRunThenCBT is the main path: a first run reads every disk
// whole, the guest writes, the second run reads only the chunks holding
// changed blocks over NBD, and both points restore the disks as they were.
func TestFirstRunThenCBT(t *testing.T) { firstThenCBT(t, newEnv(t, "nbd", "enable", false)) }

// TestFirstRunThenCBTOnS3 is the same on a versitygw S3 remote.
func TestFirstRunThenCBTOnS3(t *testing.T) { firstThenCBT(t, newEnv(t, "nbd", "enable", true)) }

func firstThenCBT(t *testing.T, e *env) {
	first := e.run()
	if first.Path != events.PathFullScan || first.PathReason != events.PathReasonFirstRun || first.BytesRead != 2*diskSize {
		t.Fatalf("first run: %+v", first)
	}
	if first.BytesStored <= 0 || first.ChunksNew <= 0 {
		t.Errorf("first run stored nothing: %+v", first)
	}
	e.assertPoint(first)
	e.assertBases(2)
	disks := e.liveDisks()
	e.guestWrite(disks[0], 64<<10, 4096, 1)           // chunk 0
	e.guestWrite(disks[0], 3<<20+512<<10, 128<<10, 2) // chunk 3
	e.guestWrite(disks[1], 2<<20-64<<10, 128<<10, 3)  // chunks 1 and 2 of the second disk
	before := e.nbdRead()
	second := e.run()
	if second.Path != events.PathCBT || second.PathReason != "" {
		t.Fatalf("second run: %+v", second)
	}
	const changed = 4 * chunkSize
	if got := e.nbdRead() - before; got != changed || second.BytesRead != changed {
		t.Errorf("nbd_read %d bytes, bytes_read %d, want %d (4 changed chunks)", got, second.BytesRead, changed)
	}
	if second.ChunksNew != 4 || second.ChunksReused == 0 {
		t.Errorf("chunks new %d reused %d, want 4 new and the unchanged non-zero ones reused", second.ChunksNew, second.ChunksReused)
	}
	e.assertPoint(second)
	e.assertBases(2)
	var started, runs int
	for _, r := range e.stored() {
		switch p := r.Payload.(type) {
		case events.IncrementalStarted:
			if p.Attempt == 1 && p.Remote == "repo" {
				started++
			}
		case events.RunStarted:
			if p.Mode == events.ModeIncremental && len(p.VMs) == 1 {
				runs++
			}
		}
	}
	if started != 2 || runs != 2 {
		t.Errorf("%d incremental.started (attempt 1) and %d run.started (mode incremental), want 2 each", started, runs)
	}
}

// TestFirstRunThenCBTEncrypted is the main path on an encrypted
// repository: keyed chunk ids, the base's ids reused by the cbt run.
func TestFirstRunThenCBTEncrypted(t *testing.T) {
	k, err := repo.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "repo.key")
	if err := repo.WriteKeyFile(keyFile, k); err != nil {
		t.Fatal(err)
	}
	e := newEnvKey(t, "nbd", "enable", false, keyFile)
	firstThenCBT(t, e)
	rp, err := e.repos.Ensure(context.Background(), "repo")
	if err != nil {
		t.Fatal(err)
	}
	if rp.Config().Encryption == nil {
		t.Fatal("the repository is not encrypted")
	}
}
