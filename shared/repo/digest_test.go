package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"testing"
	"time"

	"xbr/shared/remote/dir"
)

// In an encrypted repository the SHA-256 recorded beside each keyed id is checked against
// the chunk's content, and the image digest binds the order of the chunks: a manifest
// written with a wrong sum, or with two chunks swapped (ids and sums together), does not
// read back as a good image.
func TestEncryptedEntriesAreChecked(t *testing.T) {
	ctx := context.Background()
	d, err := dir.New("nfs", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	k, _ := GenerateKey()
	rp, err := Init(ctx, d, InitOptions{ChunkSize: MinChunkSize, Key: k})
	if err != nil {
		t.Fatal(err)
	}
	image := bytes.Repeat([]byte("0123456789abcdef"), 3*MinChunkSize/16)
	copy(image[MinChunkSize:], "another chunk")
	copy(image[2*MinChunkSize:], "a third one")
	t0 := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	b, _ := rp.Begin(ctx, "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f", t0)
	w, _ := b.AddDisk(ctx, DiskSpec{Name: "xvda", Size: int64(len(image))})
	if err := w.Fill(ctx, bytes.NewReader(image)); err != nil {
		t.Fatal(err)
	}
	w.Close(ctx)
	m, err := b.Commit(ctx, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	es := entriesOf(t, rp, m.Point())
	if es[0].sum != sha256.Sum256(image[:MinChunkSize]) || es[0].id == es[0].sum {
		t.Fatalf("entry 0 = %x:%x: want a keyed id and the chunk's plain SHA-256", es[0].id, es[0].sum)
	}
	wrongSum := append([]entry(nil), es...)
	wrongSum[1].sum[0] ^= 1
	swapped := append([]entry(nil), es...)
	swapped[0], swapped[1] = swapped[1], swapped[0]
	for i, c := range []struct {
		es   []entry
		want error
	}{{wrongSum, ErrCorrupt}, {swapped, ErrDiskDigest}} {
		p := Point{VM: m.VM, Time: t0.Add(time.Duration(i+1) * time.Hour)}
		commitEntries(t, rp, m, p, c.es, "")
		dr, err := rp.OpenDisk(ctx, p, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(dr)
		dr.Close()
		if !errors.Is(err, c.want) {
			t.Errorf("case %d: read = %v, want %v", i, err, c.want)
		}
	}
}

// commitEntries writes m's header as point p with es as disk 0's entries and the flat
// SHA-256 flat ("" for none, as the writer leaves it).
func commitEntries(t *testing.T, rp *Repo, m *Manifest, p Point, es []entry, flat string) {
	t.Helper()
	mm := *m
	mm.Time, mm.Disks = p.Time, append([]Disk(nil), m.Disks...)
	mm.Disks[0].SHA256 = flat
	err := rp.commitManifest(context.Background(), &mm, func(_ int, emit func(entry) error) error {
		for _, e := range es {
			if err := emit(e); err != nil {
				return err
			}
		}
		return nil
	}, func() error { return nil })
	if err != nil {
		t.Fatal(err)
	}
}

// entriesOf is disk 0's entries of p.
func entriesOf(t *testing.T, rp *Repo, p Point) []entry {
	mr, closer, err := rp.openManifest(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	if err := mr.seekDisk(0); err != nil {
		t.Fatal(err)
	}
	var es []entry
	for {
		e, err := mr.next()
		if err == io.EOF {
			return es
		}
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
}

// A manifest that carries a flat sha256 (none is written any more; the field stays
// optional) is still checked against the bytes read: the right one reads, a wrong one fails
// at the end with ErrDiskDigest.
func TestFlatSHA256IsCheckedWhenPresent(t *testing.T) {
	ctx := context.Background()
	d, err := dir.New("nfs", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	rp, err := Init(ctx, d, InitOptions{ChunkSize: MinChunkSize})
	if err != nil {
		t.Fatal(err)
	}
	image := bytes.Repeat([]byte("flat sha256 "), 2*MinChunkSize/12+5)
	t0 := time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)
	b, _ := rp.Begin(ctx, "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f", t0)
	w, _ := b.AddDisk(ctx, DiskSpec{Name: "xvda", Size: int64(len(image))})
	if err := w.Fill(ctx, bytes.NewReader(image)); err != nil {
		t.Fatal(err)
	}
	w.Close(ctx)
	m, err := b.Commit(ctx, []byte(`{}`))
	if err != nil || m.Disks[0].SHA256 != "" {
		t.Fatalf("commit: sha256 %q, %v: want no flat SHA-256", m.Disks[0].SHA256, err)
	}
	es := entriesOf(t, rp, m.Point())
	good := sha256.Sum256(image)
	bad := good
	bad[0] ^= 1
	for i, sum := range [][32]byte{good, bad} {
		p := Point{VM: m.VM, Time: t0.Add(time.Duration(i+1) * time.Hour)}
		mm := *m
		mm.Disks = append([]Disk(nil), m.Disks...)
		mm.Disks[0].SHA256 = hex.EncodeToString(sum[:])
		commitEntries(t, rp, &mm, p, es, mm.Disks[0].SHA256)
		dr, err := rp.OpenDisk(ctx, p, 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(dr)
		dr.Close()
		if i == 0 && (err != nil || !bytes.Equal(got, image)) {
			t.Fatalf("read with the right sha256: %d bytes, %v", len(got), err)
		}
		if i == 1 && !errors.Is(err, ErrDiskDigest) {
			t.Fatalf("read with a wrong sha256 = %v, want ErrDiskDigest", err)
		}
	}
}
