package integrity_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/catalog"
	"xbr/shared/compress"
	"xbr/shared/integrity"
	"xbr/shared/xva"
)

func TestGoodBackupsPass(t *testing.T) {
	for _, codec := range []compress.Codec{compress.None, compress.Gzip, compress.Zstd} {
		for _, deep := range []bool{false, true} {
			t.Run(string(codec)+map[bool]string{true: "/deep", false: "/sha"}[deep], func(t *testing.T) {
				d := newRemote(t)
				id := writeBackup(t, d, backupTime, codec, 9<<20+17, 3<<20)
				sum, size := sha256File(t, dataPath(d, id))
				res := integrity.Backup(context.Background(), d, id, integrity.Options{Deep: deep})
				if !res.OK() {
					t.Fatalf("good backup failed: %v", res.Err)
				}
				if res.SHA256 != sum || res.Recorded != sum || res.Bytes != size {
					t.Errorf("sha %s recorded %s bytes %d; file %s %d", res.SHA256, res.Recorded, res.Bytes, sum, size)
				}
				if want := map[bool]int{true: 2, false: 0}[deep]; res.Disks != want {
					t.Errorf("disks checked %d, want %d", res.Disks, want)
				}
				p, ok := res.Payload("", "").(events.VerifyCompleted)
				if !ok || p.Validate() != nil || p.BackupID != id.String() || p.SHA256 != sum || p.Deep != deep {
					t.Errorf("payload %+v (%v)", res.Payload("", ""), p.Validate())
				}
			})
		}
	}
}

// TestOneGiB flips one bit of a 1 GiB backup, then truncates it.
func TestOneGiB(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the 1 GiB backup takes a few seconds")
	}
	ctx := context.Background()
	d := newRemote(t)
	id := writeBackup(t, d, backupTime, compress.None, 1536<<20) // 1.5 GiB disk, ~1/3 unallocated
	path := dataPath(d, id)
	fi, err := os.Stat(path)
	check(t, err)
	if fi.Size() < 1<<30 {
		t.Fatalf("backup is %d bytes, want at least 1 GiB", fi.Size())
	}
	if res := integrity.Backup(ctx, d, id, integrity.Options{}); !res.OK() || res.Bytes != fi.Size() {
		t.Fatalf("good 1 GiB backup: %v (%d bytes)", res.Err, res.Bytes)
	}
	unflip := flipBit(t, path, fi.Size()/2+12345, 3)
	res := integrity.Backup(ctx, d, id, integrity.Options{})
	if !errors.Is(res.Err, integrity.ErrCorrupt) || !strings.Contains(res.Err.Error(), "SHA-256") {
		t.Fatalf("flipped bit: %v", res.Err)
	}
	if p, ok := res.Payload("", "").(events.VerifyFailed); !ok || p.Validate() != nil {
		t.Errorf("payload %+v", res.Payload("", ""))
	}
	unflip()
	if res := integrity.Backup(ctx, d, id, integrity.Options{}); !res.OK() {
		t.Fatalf("bit restored: %v", res.Err)
	}
	check(t, os.Truncate(path, fi.Size()-4096))
	res = integrity.Backup(ctx, d, id, integrity.Options{})
	if !errors.Is(res.Err, integrity.ErrCorrupt) || !strings.Contains(res.Err.Error(), "truncated") {
		t.Fatalf("truncated: %v", res.Err)
	}
}

// xvaDataOffset is where the first chunk's bytes start in a plain XVA
// written by writeBackup: ova.xml's header and padded data, the chunk's header.
func xvaDataOffset(t *testing.T, sizes ...int64) int64 {
	ova, err := header(sizes...).MarshalOVA()
	check(t, err)
	return 512 + (int64(len(ova))+511)/512*512 + 512
}

func TestDeepCatchesCorruptChunkWithRecomputedSHA(t *testing.T) {
	ctx := context.Background()
	d := newRemote(t)
	sizes := []int64{4 << 20, 2 << 20}
	id := writeBackup(t, d, backupTime, compress.None, sizes...)
	path := dataPath(d, id)
	flipBit(t, path, xvaDataOffset(t, sizes...)+1000, 0)
	sum, size := sha256File(t, path)
	writeMeta(t, d, id, compress.None, size, sum) // the corruption is "committed"
	if res := integrity.Backup(ctx, d, id, integrity.Options{}); !res.OK() {
		t.Fatalf("the SHA-256 check cannot see this corruption, yet it failed: %v", res.Err)
	}
	res := integrity.Backup(ctx, d, id, integrity.Options{Deep: true})
	if !errors.Is(res.Err, integrity.ErrCorrupt) || !errors.Is(res.Err, xva.ErrChecksum) {
		t.Fatalf("deep: %v, want a chunk checksum mismatch", res.Err)
	}
	if !strings.Contains(res.Err.Error(), "Ref:20/00000000") {
		t.Errorf("deep error does not name the chunk: %v", res.Err)
	}
}

// TestDeepCatchesMissingDisk: ova.xml lists two disks, the stream has one.
func TestDeepCatchesMissingDisk(t *testing.T) {
	ctx := context.Background()
	d := newRemote(t)
	id := writeBackup(t, d, backupTime, compress.Gzip, 3<<20)
	// Rewrite the archive: the same disk, but an ova.xml with a second disk.
	path := dataPath(d, id)
	f, err := os.Create(path)
	check(t, err)
	zw, err := compress.NewWriter(f, compress.Gzip, compress.WriterOptions{})
	check(t, err)
	ova, err := header(3<<20, 1<<20).MarshalOVA()
	check(t, err)
	xw := xva.NewWriter(zw, xva.WriterOptions{})
	check(t, xw.WriteOVA(ova))
	check(t, xw.WriteDisk("Ref:20", 3<<20, &diskContent{size: 3 << 20, seed: 1}))
	check(t, xw.Close())
	check(t, zw.Close())
	check(t, f.Close())
	sum, size := sha256File(t, path)
	writeMeta(t, d, id, compress.Gzip, size, sum)
	if res := integrity.Backup(ctx, d, id, integrity.Options{}); !res.OK() {
		t.Fatalf("shallow: %v", res.Err)
	}
	res := integrity.Backup(ctx, d, id, integrity.Options{Deep: true})
	if !errors.Is(res.Err, xva.ErrFormat) || res.Disks != 1 {
		t.Fatalf("deep: %v after %d disks, want an incomplete archive after 1", res.Err, res.Disks)
	}
}

func TestAllOnRemote(t *testing.T) {
	ctx := context.Background()
	d := newRemote(t)
	good := writeBackup(t, d, backupTime, compress.Zstd, 2<<20)
	bad := writeBackup(t, d, backupTime.Add(24*time.Hour), compress.None, 2<<20)
	flipBit(t, dataPath(d, bad), 700, 1)
	gone := writeBackup(t, d, backupTime.Add(48*time.Hour), compress.None, 1<<20)
	check(t, os.Remove(dataPath(d, gone)))
	broken := writeBackup(t, d, backupTime.Add(72*time.Hour), compress.None, 1<<20)
	check(t, os.WriteFile(strings.TrimSuffix(dataPath(d, broken), ".xva")+".json", []byte("{not json"), 0o644))

	results, err := integrity.All(ctx, d, integrity.Options{Deep: true})
	check(t, err)
	got := map[string]error{}
	for _, r := range results {
		got[r.ID.String()] = r.Err
	}
	want := map[catalog.ID]bool{good: true, bad: false, gone: false, broken: false}
	if len(results) != len(want) {
		t.Fatalf("%d results, want %d: %v", len(results), len(want), got)
	}
	for id, ok := range want {
		err, seen := got[id.String()]
		if !seen || (err == nil) != ok || (!ok && !errors.Is(err, integrity.ErrCorrupt)) {
			t.Errorf("%s: seen %v err %v, want ok=%v", id, seen, err, ok)
		}
	}
}

func TestRemoteFailureIsNotCorruption(t *testing.T) {
	d := newRemote(t)
	id := writeBackup(t, d, backupTime, compress.None, 1<<20)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := integrity.Backup(ctx, d, id, integrity.Options{})
	if res.OK() || errors.Is(res.Err, integrity.ErrCorrupt) {
		t.Fatalf("cancelled read: %v, want a non-corruption error", res.Err)
	}
}

// An XO delta backup is skipped with the reason, never counted as failed.
func TestAllSkipsXODeltaBackups(t *testing.T) {
	ctx := context.Background()
	d := newRemote(t)
	good := writeBackup(t, d, backupTime, compress.Zstd, 1<<20)
	delta := writeBackup(t, d, backupTime.Add(24*time.Hour), compress.None, 1<<20)
	check(t, os.Remove(dataPath(d, delta)))
	meta := strings.TrimSuffix(dataPath(d, delta), ".xva") + ".json"
	b, err := os.ReadFile(meta)
	check(t, err)
	check(t, os.WriteFile(meta, []byte(strings.Replace(string(b), `"mode": "full"`, `"mode": "delta"`, 1)), 0o644))

	results, err := integrity.All(ctx, d, integrity.Options{})
	check(t, err)
	if len(results) != 2 {
		t.Fatalf("%d results, want 2: %+v", len(results), results)
	}
	for _, r := range results {
		switch r.ID {
		case good:
			if !r.OK() || r.Skipped != "" {
				t.Errorf("good backup: %+v", r)
			}
		case delta:
			if !r.OK() || r.Skipped != "XO delta backup: not restorable by xbr yet" || r.Report().Skipped != r.Skipped {
				t.Errorf("delta backup: ok %v skipped %q err %v", r.OK(), r.Skipped, r.Err)
			}
		default:
			t.Errorf("unexpected result %+v", r)
		}
	}
}

// TestProgress: Options.Progress sees the bytes read grow to the size the
// metadata records, for that backup.
func TestProgress(t *testing.T) {
	d := newRemote(t)
	id := writeBackup(t, d, backupTime, compress.None, 9<<20+17)
	_, size := sha256File(t, dataPath(d, id))
	var calls, last, total int64
	res := integrity.Backup(context.Background(), d, id, integrity.Options{Progress: func(got catalog.ID, read, of int64) {
		if got != id || read < last {
			t.Errorf("progress of %v: %d after %d", got, read, last)
		}
		calls, last, total = calls+1, read, of
	}})
	if !res.OK() || calls < 2 || last != size || total != size {
		t.Errorf("%d progress calls, last %d of %d; backup is %d bytes (%v)", calls, last, total, size, res.Err)
	}
}
