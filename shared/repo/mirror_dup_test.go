package repo_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"xbr/shared/remote"
	"xbr/shared/repo"
)

// slowChunks is a remote whose chunk reads take a while (a source on NFS or
// across a WAN): the copies of one point's chunks overlap.
type slowChunks struct{ remote.Remote }

func (s slowChunks) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if strings.HasPrefix(key, repo.Root+"/chunks/") {
		time.Sleep(50 * time.Millisecond)
	}
	return s.Remote.Open(ctx, key)
}

// TestCopyPointRepeatedChunkOnce: a disk whose 8 chunks hold the same
// (non-zero) content is stored on the source as one chunk named 8 times. A
// copy to an empty target must transfer that chunk once ("transferring only
// chunks the target lacks") and say so: 1 copied, 7 had.
func TestCopyPointRepeatedChunkOnce(t *testing.T) {
	ctx := context.Background()
	src := initRepo(t, slowChunks{newDir(t)}, repo.Key{})
	image := bytes.Repeat(diskImage(9, cs), 8)
	writePoint(t, src, vmA, t0, image)
	dst, err := repo.InitMirror(ctx, newDir(t), src, repo.Key{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := repo.CopyPoint(ctx, src, dst, repo.Point{VM: vmA, Time: t0})
	if err != nil {
		t.Fatal(err)
	}
	if st.ChunksCopied != 1 || st.ChunksHad != 7 || st.BytesCopied > 2*int64(cs) {
		t.Fatalf("copy of a point naming one chunk 8 times: %+v; want 1 chunk copied, 7 had, under %d bytes", st, 2*cs)
	}
}
