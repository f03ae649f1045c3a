package repo_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"xbr/shared/repo"
)

func testVerify(t *testing.T, rp *repo.Repo) {
	ctx := context.Background()
	image := diskImage(20, 6*cs)
	writePoint(t, rp, vmA, t0, image)
	writePoint(t, rp, vmA, t0.Add(time.Hour), image)
	writePoint(t, rp, vmB, t0, diskImage(21, 6*cs))
	rep, err := rp.Verify(ctx, repo.VerifyOptions{Deep: true})
	if err != nil || rep.Err() != nil || rep.Checked != 6 || rep.Manifests != 3 {
		t.Fatalf("verify of a sound repository = %+v, %v, %v", rep, err, rep.Err())
	}
	// Flip one byte of one of vm A's chunks (rewritten through the remote).
	id := chunkOf(t, rp, image[:cs])
	key := repo.Root + "/chunks/" + id[:2] + "/" + id
	flipByte(t, rp, key)
	if rep, err := rp.Verify(ctx, repo.VerifyOptions{}); err != nil || rep.Err() != nil {
		t.Fatalf("shallow verify of a damaged chunk = %+v, %v: want no finding (it exists)", rep, err)
	}
	rep, err = rp.Verify(ctx, repo.VerifyOptions{Deep: true})
	if err != nil || len(rep.Problems) != 1 || rep.Problems[0].ID.String() != id || len(rep.Problems[0].Uses) != 2 {
		t.Fatalf("deep verify = %+v, %v: want chunk %s damaged, used by 2 points", rep, err, id)
	}
	msg := rep.Err().Error()
	for _, want := range []string{id, vmA + "/20261206T020000Z", vmA + "/20261206T030000Z", "damaged"} {
		if !strings.Contains(msg, want) {
			t.Errorf("verify error %q does not name %q", msg, want)
		}
	}
	if strings.Contains(msg, vmB) {
		t.Errorf("verify error %q names vm B, which does not use the chunk", msg)
	}
	// Missing is found without Deep.
	if err := rp.Remote().Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	rep, _ = rp.Verify(ctx, repo.VerifyOptions{})
	if len(rep.Problems) != 1 || !rep.Problems[0].Missing {
		t.Fatalf("verify after deleting %s = %+v: want it missing", id, rep)
	}
}

func chunkOf(t *testing.T, rp *repo.Repo, data []byte) string {
	return rp.ChunkID(data).String()
}

// flipByte rewrites the object at key with one byte in its middle flipped.
func flipByte(t *testing.T, rp *repo.Repo, key string) {
	t.Helper()
	ctx := context.Background()
	rc, err := rp.Remote().Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x40
	u, err := rp.Remote().Create(ctx, key, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := u.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
