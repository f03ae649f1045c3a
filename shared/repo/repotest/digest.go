package repotest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"xbr/shared/repo"
)

// An incremental point reads no chunk of its base: the image digest comes from the base's
// entries. Equal images give equal image digests, whichever way they were written.
func testNoReadBack(t *testing.T, rp *repo.Repo, c *CountingRemote) {
	ctx := context.Background()
	image := DiskImage(50, 16*cs+100)
	WritePoint(t, rp, VMA, T0, image)
	next := bytes.Clone(image)
	copy(next[3*cs:], DiskImage(51, cs))
	copy(next[11*cs:], DiskImage(52, cs))
	before := c.ChunkOpens.Load()
	d, st := putChanged(t, rp, repo.Point{VM: VMA, Time: T0}, T0.Add(time.Hour), next, 3, 11)
	if n := c.ChunkOpens.Load() - before; n != 0 {
		t.Fatalf("the incremental point read %d chunks, want none", n)
	}
	if st.NewChunks != 2 || st.ReusedChunks+st.ZeroChunks != 15 || d.SHA256 != "" || d.ImageDigest != ImageDigest(next, cs) {
		t.Fatalf("incremental point: %+v, %+v: want 2 new, 15 from the base, the image digest and no flat SHA-256", st, d)
	}
	// A point on top of an incremental one, then the same image by full scan elsewhere.
	third := bytes.Clone(next)
	copy(third, DiskImage(53, cs))
	d3, _ := putChanged(t, rp, repo.Point{VM: VMA, Time: T0.Add(time.Hour)}, T0.Add(2*time.Hour), third, 0)
	WritePoint(t, rp, VMB, T0, third)
	m, err := rp.Manifest(ctx, repo.Point{VM: VMB, Time: T0})
	if err != nil {
		t.Fatal(err)
	}
	if d3.ImageDigest != m.Disks[0].ImageDigest || d3.ImageDigest != ImageDigest(third, cs) || m.Disks[0].SHA256 != "" {
		t.Fatalf("equal images: incremental digest %s, full-scan digest %s sha %q: want equal digests and no flat SHA-256",
			d3.ImageDigest, m.Disks[0].ImageDigest, m.Disks[0].SHA256)
	}
	before = c.ChunkOpens.Load()
	for at, want := range map[time.Time][]byte{T0.Add(time.Hour): next, T0.Add(2 * time.Hour): third} {
		if got, err := ReadDisk(t, rp, repo.Point{VM: VMA, Time: at}); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("point %s read back: %d bytes, %v", at, len(got), err)
		}
	}
	if n := c.ChunkOpens.Load() - before; n != 2*15 {
		t.Fatalf("reading both points back opened %d chunks, want 30, 15 non-zero chunks each (the counter counts reads)", n)
	}
}

// putChanged writes the point of vm base.VM at at: chunks of image given by changed, the
// rest from base.
func putChanged(t *testing.T, rp *repo.Repo, base repo.Point, at time.Time, image []byte, changed ...int) (repo.Disk, repo.DiskStats) {
	t.Helper()
	ctx := context.Background()
	b, err := rp.Begin(ctx, base.VM, at)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort(ctx)
	w, err := b.AddDisk(ctx, repo.DiskSpec{Name: "xvda", Size: int64(len(image)), Base: &repo.BaseDisk{Point: base}})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range changed {
		if err := w.Put(ctx, int64(k), image[k*cs:min((k+1)*cs, len(image))]); err != nil {
			t.Fatal(err)
		}
	}
	d, st, err := w.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Commit(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	return d, st
}

// A manifest whose chunks were swapped or cut off does not read back as a good image: the
// image digest catches what the per-chunk checks cannot (every chunk is intact). An
// encrypted manifest cannot be edited at all.
func testTamperedManifest(t *testing.T, rp *repo.Repo) {
	image := DiskImage(54, 8*cs)
	WritePoint(t, rp, VMA, T0, image)
	next := bytes.Clone(image)
	copy(next[6*cs:], DiskImage(55, cs))
	p := repo.Point{VM: VMA, Time: T0.Add(time.Hour)}
	putChanged(t, rp, repo.Point{VM: VMA, Time: T0}, p.Time, next, 6)
	key := repo.Root + "/vms/" + p.String() + ".json"
	if rp.Config().Encryption != nil {
		FlipByte(t, rp, key)
		if _, err := ReadDisk(t, rp, p); !errors.Is(err, repo.ErrCorrupt) {
			t.Fatalf("read of an edited encrypted manifest = %v, want ErrCorrupt", err)
		}
		return
	}
	id0, id1, last := ChunkOf(t, rp, next[:cs]), ChunkOf(t, rp, next[cs:2*cs]), ChunkOf(t, rp, next[7*cs:])
	for _, c := range []struct {
		name string
		edit func(string) string
		want error
	}{
		{"chunks 0 and 1 swapped", func(s string) string {
			return strings.NewReplacer(id0, id1, id1, id0).Replace(s)
		}, repo.ErrDiskDigest},
		{"last id cut off", func(s string) string { return strings.Replace(s, `,"`+last+`"`, "", 1) }, repo.ErrCorrupt},
		{"last chunk cut off, sizes too", func(s string) string {
			return strings.NewReplacer(`,"`+last+`"`, "", `"chunks":8,`, `"chunks":7,`,
				`"size":`+strconv.Itoa(8*cs)+`,`, `"size":`+strconv.Itoa(7*cs)+`,`).Replace(s)
		}, repo.ErrDiskDigest},
	} {
		restore := editObject(t, rp, key, c.edit)
		got, err := ReadDisk(t, rp, p)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: read %d bytes, %v: want %v", c.name, len(got), err, c.want)
		}
		restore()
	}
	if got, err := ReadDisk(t, rp, p); err != nil || !bytes.Equal(got, next) {
		t.Fatalf("restored manifest: %d bytes, %v", len(got), err)
	}
}

// editObject rewrites the object at key through edit (which must change it) and returns a
// function that puts the original back.
func editObject(t *testing.T, rp *repo.Repo, key string, edit func(string) string) (restore func()) {
	t.Helper()
	orig := readObject(t, rp, key)
	changed := edit(orig)
	if changed == orig {
		t.Fatalf("the edit does not change %s", key)
	}
	writeObject(t, rp, key, changed)
	return func() { writeObject(t, rp, key, orig) }
}

func readObject(t *testing.T, rp *repo.Repo, key string) string {
	t.Helper()
	rc, err := rp.Remote().Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeObject(t *testing.T, rp *repo.Repo, key, s string) {
	t.Helper()
	ctx := context.Background()
	u, err := rp.Remote().Create(ctx, key, int64(len(s)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(u, s); err != nil {
		t.Fatal(err)
	}
	if err := u.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
