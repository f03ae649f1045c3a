// Package repoimagetest makes repository restore points for tests the way the incremental
// backup does, from a real XVA: its ova.xml becomes the manifest records, its disks the
// manifest's disks, named by export id, in stream order.
package repoimagetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"testing"
	"time"

	"xbr/shared/repo"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
	"xbr/shared/xva"
)

// StorePoint stores the XVA read from src as a restore point of vm at t and returns it
// with the SHA-256 of each disk, in disk order.
func StorePoint(t testing.TB, rp *repo.Repo, vm string, at time.Time, src io.Reader) (repo.Point, []string) {
	t.Helper()
	return StorePointWith(t, rp, vm, at, src, nil)
}

// StorePointWith is StorePoint with the point's records passed through edit (when not nil)
// before they are committed: the source VM's name, the job and schedule that took it.
func StorePointWith(t testing.TB, rp *repo.Repo, vm string, at time.Time, src io.Reader,
	edit func(*xva.RepoRecords)) (repo.Point, []string) {
	t.Helper()
	ctx := context.Background()
	xr, err := xva.NewReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer xr.Close()
	ova, err := xr.Header().MarshalOVA()
	if err != nil {
		t.Fatal(err)
	}
	b, err := rp.Begin(ctx, vm, at)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort(ctx)
	var sums []string
	for {
		d, r, err := xr.NextDisk()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sums = append(sums, storeDisk(t, b, d, r))
	}
	records := Records(t, xr.Header(), ova, edit)
	m, err := b.Commit(ctx, records)
	if err != nil {
		t.Fatal(err)
	}
	return m.Point(), sums
}

func storeDisk(t testing.TB, b *repo.Backup, d xva.DiskRef, r io.Reader) string {
	t.Helper()
	ctx := context.Background()
	w, err := b.AddDisk(ctx, repo.DiskSpec{Name: d.ID, Size: d.Size})
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if err := w.Fill(ctx, io.TeeReader(r, h)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ChunkKeys are the remote keys of the stored chunks of rp (xbr-repo/chunks/…), sorted.
func ChunkKeys(t testing.TB, rp *repo.Repo) []string {
	t.Helper()
	infos, err := rp.Remote().List(context.Background(), "xbr-repo/chunks/")
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(infos))
	for _, in := range infos {
		keys = append(keys, in.Key)
	}
	return keys
}

// StoreChanged stores the XVA read from src as a restore point of vm at t on top of base, as
// an incremental run over CBT does: of disk i, only the chunks whose indexes changed[i] lists
// are given to the repository; the others keep base's disk i's ids. It returns the point.
func StoreChanged(t testing.TB, rp *repo.Repo, vm string, at time.Time, src io.Reader, base repo.Point, changed map[int][]int64) repo.Point {
	t.Helper()
	ctx := context.Background()
	xr, err := xva.NewReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer xr.Close()
	ova, err := xr.Header().MarshalOVA()
	if err != nil {
		t.Fatal(err)
	}
	b, err := rp.Begin(ctx, vm, at)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort(ctx)
	for i := 0; ; i++ {
		d, r, err := xr.NextDisk()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		putChanged(t, b, d, r, repo.BaseDisk{Point: base, Disk: i}, changed[i], rp.Config().ChunkSize)
	}
	records := Records(t, xr.Header(), ova, nil)
	m, err := b.Commit(ctx, records)
	if err != nil {
		t.Fatal(err)
	}
	return m.Point()
}

func putChanged(t testing.TB, b *repo.Backup, d xva.DiskRef, r io.Reader, base repo.BaseDisk, changed []int64, chunkSize int) {
	t.Helper()
	ctx := context.Background()
	w, err := b.AddDisk(ctx, repo.DiskSpec{Name: d.ID, Size: d.Size, Base: &base})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, chunkSize)
	for k := int64(0); k*int64(chunkSize) < d.Size; k++ {
		n, err := io.ReadFull(r, buf[:min(int64(chunkSize), d.Size-k*int64(chunkSize))])
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(changed, k) {
			if err := w.Put(ctx, k, buf[:n]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, _, err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// Records are the manifest records the incremental backup would write for an archive with
// header h (ova its ova.xml), passed through edit when it is not nil: each disk names its VDI
// as both the snapshot and the source.
func Records(t testing.TB, h *xva.Header, ova []byte, edit func(*xva.RepoRecords)) []byte {
	t.Helper()
	refs, err := h.Disks()
	if err != nil {
		t.Fatal(err)
	}
	recs := xva.RepoRecords{Format: xva.RepoFormat, OVAXML: string(ova)}
	for i, d := range refs {
		uuid, _ := d.VDI["uuid"].(string)
		if uuid == "" { // a hand-made archive: any uuid will do
			uuid = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		}
		recs.Disks = append(recs.Disks, xva.RepoDisk{Name: d.ID, SnapshotVDI: uuid, SourceVDI: uuid,
			Userdevice: strconv.Itoa(i)})
	}
	if edit != nil {
		edit(&recs)
	}
	b, err := recs.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ExportHalted is a real export (XVA bytes over HTTP) of a halted VM of a
// simulated pool whose disks are diskSize bytes, with the VM it is of.
func ExportHalted(t testing.TB, diskSize int64) (xapisim.VMInfo, []byte) {
	t.Helper()
	sim, err := xapisim.New(xapisim.Options{DiskSize: diskSize})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := xapi.New(url)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	user, pass := sim.Credentials()
	if err := c.Login(ctx, user, pass); err != nil {
		t.Fatal(err)
	}
	for _, vm := range sim.VMs() {
		if vm.PowerState == "Halted" && !vm.IsSnapshot && !vm.IsTemplate {
			tr, err := c.Export(ctx, xapi.VMRef(vm.Ref), xapi.ExportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return vm, data
		}
	}
	t.Fatal("no halted VM")
	return xapisim.VMInfo{}, nil
}
