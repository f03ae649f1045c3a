package repo_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"xbr/shared/remote/s3"
	"xbr/shared/remote/s3/s3test"
	"xbr/shared/repo"
)

// TestGCOnS3SweepsPastManyPendingUploads: a repository on S3 with more than
// 1000 abandoned multipart uploads (one listing page) still has its garbage
// collected. On the gateway the pending uploads cannot be listed past the
// first page, and GC stops at sweepTemps before it sweeps any chunk: every
// later GC fails the same way, so deleted points' chunks stay forever.
func TestGCOnS3SweepsPastManyPendingUploads(t *testing.T) {
	ctx := context.Background()
	g := s3test.Start(t)
	g.NewBucket(t, "repo")
	r, err := s3.New(ctx, s3.Config{Name: "gw", Endpoint: g.Endpoint, Bucket: "repo",
		AccessKey: g.AccessKey, SecretKey: g.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	rp := initRepo(t, r, repo.Key{})
	writePoint(t, rp, vmA, t0, diskImage(4, 6*cs))
	if err := rp.Delete(ctx, repo.Point{VM: vmA, Time: t0}); err != nil {
		t.Fatal(err)
	}
	core := minio.Core{Client: g.Client(t)}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range 1001 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			key := fmt.Sprintf("xbr-repo/chunks/%02x/pending%05d", i%256, i)
			if _, err := core.NewMultipartUpload(ctx, "repo", key, minio.PutObjectOptions{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	time.Sleep(1100 * time.Millisecond) // S3 keeps whole seconds; the sweep removes chunks older than its marker
	rep, err := rp.GC(ctx, repo.GCOptions{Grace: -1})
	if err != nil || rep.Swept != 3 {
		t.Fatalf("GC: %+v, %v; want the deleted point's 3 chunks swept", rep, err)
	}
}
