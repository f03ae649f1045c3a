package integrity_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"xbr/shared/integrity"
	"xbr/shared/repo"
	"xbr/shared/repo/repotest"
)

// TestDeepVerifyPassesAPointThatCannotBeRestored: in a plain repository, a
// manifest whose chunk ids were swapped (every chunk present and intact) no
// longer restores: OpenDisk fails at the image digest. verify --deep still
// reports the point ok, with its SHA-256: a healthy verdict on a point every
// restore refuses. The image digest needs no chunk content in a plain
// repository (an id is the chunk's SHA-256), yet verify never checks it.
func TestDeepVerifyPassesAPointThatCannotBeRestored(t *testing.T) {
	ctx := context.Background()
	rp, _ := newRepo(t, bare)
	image := repotest.DiskImage(7, 4*repotest.ChunkSize)
	repotest.WritePoint(t, rp, repotest.VMA, repotest.T0, image)
	p := repo.Point{VM: repotest.VMA, Time: repotest.T0}
	key := repo.Root + "/vms/" + p.String() + ".json"
	id0 := repotest.ChunkOf(t, rp, image[:repotest.ChunkSize])
	id1 := repotest.ChunkOf(t, rp, image[repotest.ChunkSize:2*repotest.ChunkSize])
	rc, err := rp.Remote().Open(ctx, key)
	check(t, err)
	b, err := io.ReadAll(rc)
	rc.Close()
	check(t, err)
	swapped := strings.NewReplacer(id0, id1, id1, id0).Replace(string(b))
	u, err := rp.Remote().Create(ctx, key, int64(len(swapped)))
	check(t, err)
	_, err = io.WriteString(u, swapped)
	check(t, err)
	check(t, u.Commit(ctx))

	if _, err := repotest.ReadDisk(t, rp, p); !errors.Is(err, repo.ErrDiskDigest) {
		t.Fatalf("restore of the point = %v, want ErrDiskDigest", err)
	}
	res, err := integrity.Points(ctx, rp, "nfs", integrity.Options{Deep: true})
	check(t, err)
	if len(res) != 1 {
		t.Fatalf("results %v", ids(res))
	}
	if res[0].OK() {
		t.Fatalf("verify --deep says %s is ok (sha256 %s), but its restore fails at the image digest", res[0].ID, res[0].SHA256)
	}
}
