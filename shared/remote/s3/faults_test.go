package s3_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/shared/remote"
	"xbr/shared/remote/remotetest"
	"xbr/shared/remote/s3"
	"xbr/shared/remote/s3/s3test"
)

func newBucket(t *testing.T, g *s3test.Gateway, cfg s3.Config) *s3.Bucket {
	t.Helper()
	cfg.Endpoint, cfg.AccessKey, cfg.SecretKey = g.Endpoint, g.AccessKey, g.SecretKey
	if cfg.Name == "" {
		cfg.Name = "gateway"
	}
	b, err := s3.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAbortMidwayLeavesNothing: an upload aborted after several parts reached the gateway
// leaves no object, no pending multipart upload and no file in the gateway's folder.
func TestAbortMidwayLeavesNothing(t *testing.T) {
	g := s3test.Start(t)
	g.NewBucket(t, "backups")
	b := newBucket(t, g, s3.Config{Bucket: "backups", PartFloor: s3.MinPartSize})
	ctx := context.Background()
	key := "xo-vm-backups/vm1/20231012T101112Z.xva"
	u, err := b.Create(ctx, key, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(u, remotetest.Data(9, 17<<20)); err != nil {
		t.Fatal(err)
	}
	remotetest.Eventually(t, 10*time.Second, func() (bool, string) {
		p := g.PendingUploads(t, "backups", "")
		return len(p) == 1, "pending uploads: " + strings.Join(p, ", ")
	})
	if err := u.Abort(ctx); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if p := g.PendingUploads(t, "backups", ""); len(p) != 0 {
		t.Errorf("pending uploads after Abort: %v", p)
	}
	remotetest.AssertAbsent(t, b, key)
	assertNoFiles(t, filepath.Join(g.Root, "backups", "xo-vm-backups"))
}

// TestCrashedWriterIsSwept: a writer that vanished (its context ended without Abort) leaves
// at most a pending upload, which Sweep removes.
func TestCrashedWriterIsSwept(t *testing.T) {
	g := s3test.Start(t)
	g.NewBucket(t, "backups")
	b := newBucket(t, g, s3.Config{Bucket: "backups", Prefix: "pool1", PartFloor: s3.MinPartSize})
	ctx, cancel := context.WithCancel(context.Background())
	u, err := b.Create(ctx, "vm/x.xva", -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(u, remotetest.Data(10, 12<<20)); err != nil {
		t.Fatal(err)
	}
	cancel() // the writer dies; nobody calls Abort or Commit
	remotetest.AssertAbsent(t, b, "vm/x.xva")
	if _, err := remote.Sweep(context.Background(), b, "", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if p := g.PendingUploads(t, "backups", ""); len(p) != 0 {
		t.Errorf("pending uploads after Sweep: %v", p)
	}
}

// TestPrefixIsolation: keys live under the configured prefix, and a remote never lists what
// lies outside it.
func TestPrefixIsolation(t *testing.T) {
	g := s3test.Start(t)
	g.NewBucket(t, "shared")
	a := newBucket(t, g, s3.Config{Bucket: "shared", Prefix: "/site-a/"})
	other := newBucket(t, g, s3.Config{Bucket: "shared", Prefix: "site-ab"})
	remotetest.PutBytes(t, a, "vm/1.json", []byte("a"))
	remotetest.PutBytes(t, other, "vm/1.json", []byte("ab"))
	remotetest.AssertKeys(t, a, "", "vm/1.json")
	remotetest.AssertContent(t, a, "vm/1.json", []byte("a"))
	if b, err := os.ReadFile(filepath.Join(g.Root, "shared", "site-a", "vm", "1.json")); err != nil || string(b) != "a" {
		t.Errorf("object on the gateway's disk = %q, %v", b, err)
	}
}

// TestCreateBucket: with CreateBucket a missing bucket is made (twice is fine); without it,
// a listing fails with an error that is not ErrNotFound (Stat, a HEAD request, cannot tell a
// missing bucket from a missing key).
func TestCreateBucket(t *testing.T) {
	g := s3test.Start(t)
	missing := newBucket(t, g, s3.Config{Bucket: "absent"})
	if _, err := missing.List(context.Background(), ""); err == nil || errors.Is(err, remote.ErrNotFound) {
		t.Errorf("List of a missing bucket = %v, want a non-NotFound error", err)
	}
	for range 2 {
		b := newBucket(t, g, s3.Config{Bucket: "made", CreateBucket: true})
		remotetest.PutBytes(t, b, "k", []byte("v"))
	}
}

func assertNoFiles(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err == nil && !e.IsDir() {
			t.Errorf("file left on the gateway's disk: %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
