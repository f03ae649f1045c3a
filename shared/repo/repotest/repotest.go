package repotest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"xbr/shared/remote"
	"xbr/shared/repo"
)

// Two VMs, and the chunk size of the repositories Init makes (the smallest, so that a
// test disk has many chunks).
const (
	ChunkSize = repo.MinChunkSize
	cs        = ChunkSize
	VMA       = "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f"
	VMB       = "5d2e1f00-aaaa-4bbb-8ccc-123456789abc"
)

// T0 is the time of a test's first restore point.
var T0 = time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)

// NewRemote makes a fresh, empty remote.
type NewRemote func(t *testing.T) remote.Remote

// DiskImage is size bytes of seeded random data with a zero region in the middle (whole
// chunks 2 to 4) and a short last chunk when size says so.
func DiskImage(seed uint64, size int) []byte {
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

// Sum is the hex SHA-256 of b.
func Sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// ImageDigest is the image digest of image cut into chunks of chunkSize, computed here
// from its definition (doc.go): the SHA-256 of the chunks' SHA-256s, in order.
func ImageDigest(image []byte, chunkSize int) string {
	list := sha256.New()
	for off := 0; off < len(image); off += chunkSize {
		s := sha256.Sum256(image[off:min(off+chunkSize, len(image))])
		list.Write(s[:])
	}
	return hex.EncodeToString(list.Sum(nil))
}

// CountingRemote counts the chunks read through it (Open of a key under chunks/) and the
// questions asked about chunks (Stat of such a key: an S3 HEAD); the rest is the wrapped
// remote's. It hides the wrapped remote's batch: a repository's chunks go through Create
// and Stat here, where they are counted.
type CountingRemote struct {
	remote.Remote
	ChunkOpens atomic.Int64
	ChunkStats atomic.Int64
}

// Stat counts the questions about chunks.
func (c *CountingRemote) Stat(ctx context.Context, key string) (remote.Info, error) {
	if strings.HasPrefix(key, repo.Root+"/chunks/") {
		c.ChunkStats.Add(1)
	}
	return c.Remote.Stat(ctx, key)
}

// Open counts chunk reads.
func (c *CountingRemote) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if strings.HasPrefix(key, repo.Root+"/chunks/") {
		c.ChunkOpens.Add(1)
	}
	return c.Remote.Open(ctx, key)
}

// WritePoint stores image as one disk of a restore point of vm at t, by full scan.
func WritePoint(t *testing.T, rp *repo.Repo, vm string, at time.Time, image []byte) repo.DiskStats {
	t.Helper()
	return WritePointRecords(t, rp, vm, at, image, json.RawMessage(`{"name_label":"vm"}`))
}

// WritePointRecords is WritePoint with the point's records given.
func WritePointRecords(t *testing.T, rp *repo.Repo, vm string, at time.Time, image []byte, records json.RawMessage) repo.DiskStats {
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
	if _, err := b.Commit(ctx, records); err != nil {
		t.Fatal(err)
	}
	return st
}

// ReadDisk reads disk 0 of p back.
func ReadDisk(t *testing.T, rp *repo.Repo, p repo.Point) ([]byte, error) {
	t.Helper()
	dr, err := rp.OpenDisk(context.Background(), p, 0)
	if err != nil {
		return nil, err
	}
	defer dr.Close()
	return io.ReadAll(dr)
}

// Init creates a repository on r (chunks of ChunkSize; key may be the zero Key).
func Init(t *testing.T, r remote.Remote, key repo.Key, opts ...repo.Option) *repo.Repo {
	t.Helper()
	rp, err := repo.Init(context.Background(), r, repo.InitOptions{ChunkSize: cs, Key: key}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return rp
}

// NewKey returns a new repository key.
func NewKey(t *testing.T) repo.Key {
	k, err := repo.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}
