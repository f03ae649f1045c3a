package repotest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"xbr/shared/repo"
)

// testBaseChunks reads a base point's chunks back by index: each equals the image's (zeros
// for the zero ones, read without a chunk), an index behind the last one asked or beyond
// the base, or a chunk whose length differs because the disk was resized, is not in the base,
// and a damaged chunk is ErrCorrupt naming it.
func testBaseChunks(t *testing.T, rp *repo.Repo, c *CountingRemote) {
	ctx := context.Background()
	image := DiskImage(11, 6*cs+cs/2) // chunks 2 to 4 zero, a short last chunk 6
	WritePoint(t, rp, VMA, T0, image)
	base := repo.BaseDisk{Point: repo.Point{VM: VMA, Time: T0}}
	bc, err := rp.OpenBaseChunks(ctx, base, int64(len(image)))
	if err != nil {
		t.Fatal(err)
	}
	defer bc.Close()
	buf := make([]byte, cs)
	for _, i := range []int64{0, 3, 6} {
		opens := c.ChunkOpens.Load()
		ch, ok, err := bc.At(i)
		if err != nil || !ok {
			t.Fatalf("At(%d) = %v, %v; want the chunk", i, ok, err)
		}
		want := image[i*cs : min((i+1)*cs, int64(len(image)))]
		if err := bc.Read(ctx, ch, buf[:len(want)]); err != nil || !bytes.Equal(buf[:len(want)], want) {
			t.Fatalf("Read(chunk %d) = %v, or content differs", i, err)
		}
		if read := c.ChunkOpens.Load() - opens; ch.Zero() != (i == 3) || (read == 0) != ch.Zero() {
			t.Errorf("chunk %d: Zero %v, %d chunk reads; want a read for every chunk but the zero one", i, ch.Zero(), read)
		}
		if err := bc.Read(ctx, ch, buf[:len(want)-1]); err == nil {
			t.Errorf("Read of chunk %d into a buffer one byte short succeeded", i)
		}
	}
	for _, i := range []int64{5, 7} { // behind the last asked; beyond the base
		if _, ok, err := bc.At(i); ok || err != nil {
			t.Errorf("At(%d) = %v, %v; want not in the base", i, ok, err)
		}
	}
	grown, err := rp.OpenBaseChunks(ctx, base, int64(len(image))+cs/4)
	if err != nil {
		t.Fatal(err)
	}
	defer grown.Close()
	if _, ok, err := grown.At(6); ok || err != nil {
		t.Errorf("At(6) of a grown disk = %v, %v; want not in the base (its length differs)", ok, err)
	}
	id := ChunkOf(t, rp, image[cs:2*cs])
	FlipByte(t, rp, repo.Root+"/chunks/"+id[:2]+"/"+id)
	ch, ok, err := grown.At(1)
	if err != nil || !ok {
		t.Fatalf("At(1) = %v, %v", ok, err)
	}
	if err := grown.Read(ctx, ch, buf); !errors.Is(err, repo.ErrCorrupt) || !bytes.Contains([]byte(err.Error()), []byte(id)) {
		t.Errorf("Read of a damaged chunk = %v, want ErrCorrupt naming %s", err, id)
	}
}
