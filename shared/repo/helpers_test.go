package repo_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/s3"
	"xbr/shared/remote/s3/s3test"
	"xbr/shared/repo"
)

const (
	vmA = "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f"
	vmB = "5d2e1f00-aaaa-4bbb-8ccc-123456789abc"
	cs  = repo.MinChunkSize
)

var t0 = time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)

// newRemoteFunc makes a fresh, empty remote.
type newRemoteFunc func(t *testing.T) remote.Remote

func newDir(t *testing.T) remote.Remote {
	d, err := dir.New("nfs", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// s3Remotes starts one gateway and returns a constructor of remotes, each under its own
// prefix in one bucket.
func s3Remotes(t *testing.T) newRemoteFunc {
	g := s3test.Start(t)
	g.NewBucket(t, "repo")
	var n atomic.Int64
	return func(t *testing.T) remote.Remote {
		b, err := s3.New(context.Background(), s3.Config{
			Name: "gateway", Endpoint: g.Endpoint, Bucket: "repo", Prefix: fmt.Sprintf("run%d/", n.Add(1)),
			AccessKey: g.AccessKey, SecretKey: g.SecretKey, PartFloor: s3.MinPartSize,
		})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

// diskImage is size bytes of seeded random data with a zero region in the middle (whole
// chunks 2 to 4) and a short last chunk when size says so.
func diskImage(seed uint64, size int) []byte {
	b := make([]byte, size)
	r := rand.New(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 7}))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	if size > 5*cs {
		clear(b[2*cs : 5*cs])
	}
	return b
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// writePoint stores image as one disk of a restore point of vm at t, by full scan.
func writePoint(t *testing.T, rp *repo.Repo, vm string, at time.Time, image []byte) repo.DiskStats {
	t.Helper()
	ctx := context.Background()
	b, err := rp.Begin(ctx, vm, at)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort(ctx)
	w, err := b.AddDisk(ctx, repo.DiskSpec{Name: "xvda", Size: int64(len(image))})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Fill(ctx, bytes.NewReader(image)); err != nil {
		t.Fatal(err)
	}
	_, st, err := w.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Commit(ctx, json.RawMessage(`{"name_label":"vm"}`)); err != nil {
		t.Fatal(err)
	}
	return st
}

// readDisk reads disk 0 of p back.
func readDisk(t *testing.T, rp *repo.Repo, p repo.Point) ([]byte, error) {
	t.Helper()
	dr, err := rp.OpenDisk(context.Background(), p, 0)
	if err != nil {
		return nil, err
	}
	defer dr.Close()
	return io.ReadAll(dr)
}

func initRepo(t *testing.T, r remote.Remote, key repo.Key, opts ...repo.Option) *repo.Repo {
	t.Helper()
	rp, err := repo.Init(context.Background(), r, repo.InitOptions{ChunkSize: cs, Key: key}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return rp
}

func mustKey(t *testing.T) repo.Key {
	k, err := repo.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
