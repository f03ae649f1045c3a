package repoimage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/s3"
	"xbr/shared/remote/s3/s3test"
	"xbr/shared/repo"
	"xbr/shared/repo/repotest"
	"xbr/shared/repoimage"
	"xbr/shared/repoimage/repoimagetest"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
	"xbr/shared/xva"
)

var at = time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)

// source is a real XVA of a simulated VM with two disks, and the SHA-256 of each disk.
type source struct {
	vm    xapisim.VMInfo
	xva   []byte
	disks []string
}

func exportVM(t *testing.T) source {
	t.Helper()
	return exportVMWith(t, xapisim.Options{VMs: 2, DisksPerVM: 2, DiskSize: 3<<20 + 4096})
}

// exportVMWith is exportVM of a pool made with o (VMs at least 2: the second is halted).
// labels, when given, become the name_label of the VM's disks, in disk order.
func exportVMWith(t *testing.T, o xapisim.Options, labels ...string) source {
	t.Helper()
	sim, _, c := testsupport.StartSim(t, o)
	ctx := context.Background()
	var vm xapisim.VMInfo
	for _, v := range sim.VMs() {
		if !v.IsSnapshot && !v.IsTemplate && v.PowerState == "Halted" {
			vm = v
		}
	}
	labelDisks(t, sim, c, vm, labels)
	tr, err := c.Export(ctx, xapi.VMRef(vm.Ref), xapi.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	data, err := io.ReadAll(tr)
	if err != nil {
		t.Fatal(err)
	}
	return source{vm: vm, xva: data, disks: xvaDisks(t, bytes.NewReader(data))}
}

// labelDisks names vm's disks labels, in the order the export carries them (its VBDs').
func labelDisks(t *testing.T, sim *xapisim.Server, c *xapi.Client, vm xapisim.VMInfo, labels []string) {
	t.Helper()
	if len(labels) == 0 {
		return
	}
	rec, err := sim.Record("VM", vm.Ref)
	if err != nil {
		t.Fatal(err)
	}
	var vdis []any
	for _, ref := range rec["VBDs"].([]string) {
		vbd, err := sim.Record("VBD", ref)
		if err != nil {
			t.Fatal(err)
		}
		if vbd["type"] == "Disk" {
			vdis = append(vdis, vbd["VDI"])
		}
	}
	if len(vdis) != len(labels) {
		t.Fatalf("VM %s has %d disks, %d labels given", vm.UUID, len(vdis), len(labels))
	}
	for i, vdi := range vdis {
		if _, err := c.Call(context.Background(), "VDI.set_name_label", vdi, labels[i]); err != nil {
			t.Fatal(err)
		}
	}
}

// xvaDisks reads an XVA and returns the SHA-256 of each disk; it fails on a bad archive.
func xvaDisks(t *testing.T, r io.Reader) []string {
	t.Helper()
	sums, err := readXVA(r)
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func readXVA(r io.Reader) ([]string, error) {
	xr, err := xva.NewReader(r)
	if err != nil {
		return nil, err
	}
	defer xr.Close()
	var sums []string
	for {
		_, dr, err := xr.NextDisk()
		if errors.Is(err, io.EOF) {
			return sums, nil
		}
		if err != nil {
			return nil, err
		}
		h := sha256.New()
		if _, err := io.Copy(h, dr); err != nil {
			return nil, err
		}
		sums = append(sums, hex.EncodeToString(h.Sum(nil)))
	}
}

func newDir(t *testing.T) remote.Remote {
	d, err := dir.New("nfs", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func newS3(t *testing.T) remote.Remote {
	g := s3test.Start(t)
	g.NewBucket(t, "repo")
	b, err := s3.New(context.Background(), s3.Config{Name: "gateway", Endpoint: g.Endpoint, Bucket: "repo",
		AccessKey: g.AccessKey, SecretKey: g.SecretKey, PartFloor: s3.MinPartSize})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestXVAOnDir(t *testing.T) { testXVA(t, newDir(t)) }
func TestXVAOnS3(t *testing.T)  { testXVA(t, newS3(t)) }

// A point stored from a real export comes back as an XVA with the same disks; a flipped
// byte in one chunk fails WriteXVA before the archive is complete.
func testXVA(t *testing.T, r remote.Remote) {
	src := exportVM(t)
	rp := repotest.Init(t, r, repo.Key{})
	p, sums := repoimagetest.StorePoint(t, rp, src.vm.UUID, at, bytes.NewReader(src.xva))
	if len(sums) != 2 || sums[0] != src.disks[0] || sums[1] != src.disks[1] {
		t.Fatalf("stored disks %v, exported %v", sums, src.disks)
	}
	ctx := context.Background()
	pt, err := repoimage.Open(ctx, rp, p)
	if err != nil {
		t.Fatal(err)
	}
	if pt.VMName() != src.vm.NameLabel || pt.Size() != 2*(3<<20+4096) {
		t.Errorf("VMName %q, Size %d; want %q, %d", pt.VMName(), pt.Size(), src.vm.NameLabel, 2*(3<<20+4096))
	}
	var out bytes.Buffer
	if err := pt.WriteXVA(ctx, &out, xva.WriterOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := xvaDisks(t, bytes.NewReader(out.Bytes())); got[0] != src.disks[0] || got[1] != src.disks[1] {
		t.Fatalf("rebuilt XVA's disks %v, want %v", got, src.disks)
	}

	keys := repoimagetest.ChunkKeys(t, rp)
	repotest.FlipByte(t, rp, keys[len(keys)-1])
	out.Reset()
	err = pt.WriteXVA(ctx, &out, xva.WriterOptions{})
	if !errors.Is(err, repo.ErrCorrupt) {
		t.Fatalf("WriteXVA over a damaged chunk: %v, want repo.ErrCorrupt", err)
	}
	if _, err := readXVA(bytes.NewReader(out.Bytes())); err == nil {
		t.Fatal("the partial XVA of a damaged point reads as a complete archive")
	}
}

func TestImages(t *testing.T) {
	src := exportVM(t)
	rp := repotest.Init(t, newDir(t), repo.Key{})
	p, _ := repoimagetest.StorePoint(t, rp, src.vm.UUID, at, bytes.NewReader(src.xva))
	ctx := context.Background()
	pt, err := repoimage.Open(ctx, rp, p)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "images") // made by WriteImages, for its owner only
	paths, err := pt.WriteImages(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 2 {
		t.Fatalf("paths %v", paths)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("folder %s: %v, %v; want one made with mode 0700", out, fi, err)
	}
	if _, err := pt.WriteImages(ctx, filepath.Join(t.TempDir(), "no", "such")); err == nil ||
		!strings.Contains(err.Error(), "no such file or directory") {
		t.Fatalf("WriteImages under a missing parent: %v", err)
	}
	for i, path := range paths {
		want := src.vm.UUID + "-20261206T020000Z-"
		if base := filepath.Base(path); base[:len(want)] != want || filepath.Ext(base) != ".raw" {
			t.Errorf("image name %q, want %s<disk>.raw", base, want)
		}
		if got := fileSum(t, path); got != src.disks[i] {
			t.Errorf("image %s: sha256 %s, want %s", path, got, src.disks[i])
		}
	}
	before := fileSum(t, paths[0])
	if _, err := pt.WriteImages(ctx, out); !errors.Is(err, repoimage.ErrExists) {
		t.Fatalf("second WriteImages: %v, want ErrExists", err)
	}
	if fileSum(t, paths[0]) != before {
		t.Fatal("an existing image was overwritten")
	}

	keys := repoimagetest.ChunkKeys(t, rp)
	repotest.FlipByte(t, rp, keys[0])
	bad := t.TempDir()
	if _, err := pt.WriteImages(ctx, bad); !errors.Is(err, repo.ErrCorrupt) && !errors.Is(err, repo.ErrDiskDigest) {
		t.Fatalf("WriteImages of a damaged point: %v", err)
	}
	if left, _ := os.ReadDir(bad); len(left) != 0 {
		t.Fatalf("a damaged point left %d file(s): %v", len(left), left[0].Name())
	}
	made := filepath.Join(t.TempDir(), "made")
	if _, err := pt.WriteImages(ctx, made); err == nil {
		t.Fatal("WriteImages of a damaged point into a new folder succeeded")
	}
	if _, err := os.Lstat(made); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a damaged point left the folder it made: %v", err)
	}
}

// TestImageNamesDistinct: every disk of a point gets its own image file, even
// when one disk's label is another's index (the VDIs labelled "1" and ""), and
// a long label is cut so that the name stays a valid file name.
func TestImageNamesDistinct(t *testing.T) {
	for _, tc := range []struct{ labels, want []string }{
		{[]string{"1", ""}, []string{"0-1", "1"}},
		{[]string{"", "0"}, []string{"0", "1-0"}},
		{[]string{"data", "data"}, []string{"0-data", "1-data"}},
		{[]string{"system disk", "../etc"}, []string{"0-system_disk", "1-._etc"}},
		// A label as long as XAPI allows would make a name over the 255 bytes of a file name.
		{[]string{strings.Repeat("x", 300), "data"}, []string{"0-" + strings.Repeat("x", 64), "1-data"}},
	} {
		t.Run(strings.Join(tc.labels, ","), func(t *testing.T) {
			src := exportVMWith(t, xapisim.Options{VMs: 2, DisksPerVM: 2, DiskSize: 1 << 20}, tc.labels...)
			rp := repotest.Init(t, newDir(t), repo.Key{})
			p, _ := repoimagetest.StorePoint(t, rp, src.vm.UUID, at, bytes.NewReader(src.xva))
			ctx := context.Background()
			pt, err := repoimage.Open(ctx, rp, p)
			if err != nil {
				t.Fatal(err)
			}
			names := pt.ImageNames()
			if len(names) != 2 || names[0] == names[1] {
				t.Fatalf("ImageNames %q: want two distinct names", names)
			}
			for i, n := range names {
				if want := src.vm.UUID + "-20261206T020000Z-" + tc.want[i] + ".raw"; n != want {
					t.Errorf("disk %d labelled %q: named %q, want %q", i, tc.labels[i], n, want)
				}
			}
			if again := pt.ImageNames(); !slices.Equal(again, names) {
				t.Fatalf("ImageNames %q, then %q", names, again)
			}
			paths, err := pt.WriteImages(ctx, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			for i, path := range paths {
				if got := fileSum(t, path); got != src.disks[i] {
					t.Errorf("image %s: sha256 %s, want %s", path, got, src.disks[i])
				}
			}
		})
	}
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestImportSize: a restore's progress total is an upper bound of the size
// of the XVA, which leaves all-zero 1 MiB chunks out: with 1 MiB repository
// chunks it is at most two archive chunks more, and below the disks' size for a
// point with zero chunks; with other chunk sizes it is still a bound.
func TestImportSize(t *testing.T) {
	src := exportVMWith(t, xapisim.Options{VMs: 2, DisksPerVM: 1, DiskSize: 32<<20 + 4096})
	vm, data := src.vm, src.xva
	ctx := context.Background()
	for _, cs := range []int{xva.ChunkSize, 256 << 10, 4 << 20, 1536 << 10} {
		rp, err := repo.Init(ctx, newDir(t), repo.InitOptions{ChunkSize: cs})
		if err != nil {
			t.Fatal(err)
		}
		p, _ := repoimagetest.StorePoint(t, rp, vm.UUID, at, bytes.NewReader(data))
		pt, err := repoimage.Open(ctx, rp, p)
		if err != nil {
			t.Fatal(err)
		}
		if z := pt.Manifest().Disks[0].ZeroChunks; z < 2 {
			t.Fatalf("chunk size %d: the disk has %d zero chunks; the test needs some", cs, z)
		}
		var n countWriter
		if err := pt.WriteXVA(ctx, &n, xva.WriterOptions{ModTime: at}); err != nil {
			t.Fatal(err)
		}
		got := pt.ImportSize()
		t.Logf("chunk size %d: ImportSize %d, Size %d, XVA %d", cs, got, pt.Size(), n)
		if got < int64(n) || got > pt.Size()+pt.Size()/100+4096 {
			t.Errorf("chunk size %d: ImportSize %d, XVA %d bytes, Size %d: want from the XVA's size to about Size", cs, got, n, pt.Size())
		}
		if cs == xva.ChunkSize && (got >= pt.Size() || got > int64(n)+2*(xva.ChunkSize+1536)) {
			t.Errorf("1 MiB chunks: ImportSize %d, XVA %d, Size %d: want at most two archive chunks over the XVA, below Size", got, n, pt.Size())
		}
	}
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }
