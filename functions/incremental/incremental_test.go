package incremental_test

import (
	"context"
	"path/filepath"
	"testing"

	"xbr/events"
	"xbr/shared/repo"
)

// TestFirstRunThenCBT is the main path: a first run reads every disk
// whole (only its allocated blocks: the VHD export leaves out the all-zero
// 2 MiB blocks, so less than the disks' size comes from the host), the
// guest writes, the second run reads over NBD only the changed
// 64 KiB blocks of a chunk at most half changed (the rest of it comes from
// the base point) and the whole of a chunk more than half changed, and both
// points restore the disks as they were.
func TestFirstRunThenCBT(t *testing.T) { firstThenCBT(t, newEnv(t, "nbd", "enable", false)) }

// TestFirstRunThenCBTOnS3 is the same on a versitygw S3 remote.
func TestFirstRunThenCBTOnS3(t *testing.T) { firstThenCBT(t, newEnv(t, "nbd", "enable", true)) }

// TestFirstRunThenCBTInsecureNBD is the same on a pool whose NBD network is
// insecure_nbd: the records carry the host's certificate, as XAPI's do, and
// the export is read in plain text, as xapi-nbd serves it there.
func TestFirstRunThenCBTInsecureNBD(t *testing.T) {
	firstThenCBT(t, newEnv(t, "insecure_nbd", "enable", false))
}

func firstThenCBT(t *testing.T, e *env) {
	exported := e.exportRead()
	first := e.run()
	exported = e.exportRead() - exported
	if first.Path != events.PathFullScan || first.PathReason != events.PathReasonFirstRun {
		t.Fatalf("first run: %+v", first)
	}
	if first.BytesRead != exported || exported >= 2*diskSize || exported == 0 {
		t.Fatalf("first run: bytes_read %d, the host sent %d; want the same, below the disks' %d bytes", first.BytesRead, exported, 2*diskSize)
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
	e.guestWrite(disks[1], 3<<20, 9*64<<10, 4)        // 9 of chunk 3's 16 blocks: read whole
	before := e.nbdRead()
	second := e.run()
	if second.Path != events.PathCBT || second.PathReason != "" {
		t.Fatalf("second run: %+v", second)
	}
	const read = 5*64<<10 + chunkSize // five changed blocks, one whole chunk
	if got := e.nbdRead() - before; got != read || second.BytesRead != read {
		t.Errorf("nbd_read %d bytes, bytes_read %d, want %d (5 changed blocks, 1 chunk)", got, second.BytesRead, read)
	}
	if want := float64(5*chunkSize) / float64(second.BytesStored); second.DedupRatio != want {
		t.Errorf("dedup ratio %v, want %v: the bytes of the 5 chunks written per byte stored", second.DedupRatio, want)
	}
	if second.ChunksPatched != 4 || second.BaseChunksUnreadable != 0 {
		t.Errorf("chunks patched %d, base chunks unreadable %d; want 4 and 0", second.ChunksPatched, second.BaseChunksUnreadable)
	}
	if second.ChunksNew != 5 || second.ChunksReused == 0 {
		t.Errorf("chunks new %d reused %d, want 5 new and the unchanged non-zero ones reused", second.ChunksNew, second.ChunksReused)
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
