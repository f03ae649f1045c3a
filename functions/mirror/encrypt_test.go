package mirror_test

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"

	"xbr/events"
	"xbr/shared/cli/serve"
	"xbr/shared/fn"
	"xbr/shared/repo"
	"xbr/shared/repo/repotest"
)

// TestEncryptedMirrorHoldsNoPlaintext: a restore point of a disk of
// recognisable (random, so incompressible) data, mirrored from an encrypted
// repository to a dir or S3 target, leaves no piece of the disk in any file
// of either remote; the same with plain repositories finds the pieces (the
// scan can see plaintext where there is some).
func TestEncryptedMirrorHoldsNoPlaintext(t *testing.T) {
	for _, target := range []string{"dir", "s3"} {
		for _, enc := range []bool{false, true} {
			name := map[bool]string{false: "/plain", true: "/encrypted"}[enc]
			t.Run(target+name, func(t *testing.T) {
				keyFile := ""
				if enc {
					keyFile = filepath.Join(t.TempDir(), "repo.key")
					if err := repo.WriteKeyFile(keyFile, repotest.NewKey(t)); err != nil {
						t.Fatal(err)
					}
				}
				w := newWorldKey(t, target, keyFile)
				img := repotest.DiskImage(77, 6*repotest.ChunkSize)
				repotest.WritePoint(t, w.src, repotest.VMA, at(0), img)
				if done := ofType[events.MirrorCompleted](w.run()); len(done) != 1 || len(done[0].Targets[0].Copied) != 1 {
					t.Fatalf("mirror: %+v", done)
				}
				for _, rem := range []string{"nfs", "offsite"} {
					found := piecesOn(t, w, rem, img)
					if enc && found > 0 {
						t.Errorf("remote %s: %d pieces of the disk in plaintext", rem, found)
					}
					if !enc && found == 0 {
						t.Errorf("remote %s, plain: the scan found no piece of the disk", rem)
					}
				}
			})
		}
	}
}

// piecesOn counts the 32-byte pieces of img's data chunks (0, 1 and 5; 2 to
// 4 are zero) found in the files of remote rem.
func piecesOn(t *testing.T, w *world, rem string, img []byte) int {
	t.Helper()
	ctx := context.Background()
	r, err := fn.NewRemotes(w.cfg.Remotes, serve.OpenRemote).Get(ctx, rem)
	if err != nil {
		t.Fatal(err)
	}
	infos, err := r.List(ctx, "")
	if err != nil || len(infos) == 0 {
		t.Fatalf("list %s: %d objects, %v", rem, len(infos), err)
	}
	found := 0
	for _, in := range infos {
		rc, err := r.Open(ctx, in.Key)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []int{0, 1, 5} {
			for off := c*repotest.ChunkSize + 100; off < (c+1)*repotest.ChunkSize-32; off += 8192 {
				if bytes.Contains(data, img[off:off+32]) {
					found++
				}
			}
		}
	}
	return found
}
