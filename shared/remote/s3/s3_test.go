package s3_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"xbr/shared/remote"
	"xbr/shared/remote/remotetest"
	"xbr/shared/remote/s3"
	"xbr/shared/remote/s3/s3test"
)

// newRemotes returns a constructor of fresh remotes on one gateway: each call gets its own
// prefix in a shared bucket.
func newRemotes(t *testing.T, g *s3test.Gateway, bucket string) func(t *testing.T) remote.Remote {
	g.NewBucket(t, bucket)
	var n atomic.Int64
	return func(t *testing.T) remote.Remote {
		b, err := s3.New(context.Background(), s3.Config{
			Name: "gateway", Endpoint: g.Endpoint, Bucket: bucket, Prefix: fmt.Sprintf("run%d/", n.Add(1)),
			AccessKey: g.AccessKey, SecretKey: g.SecretKey, PartFloor: s3.MinPartSize,
		})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func TestConformance(t *testing.T) {
	g := s3test.Start(t)
	remotetest.Run(t, newRemotes(t, g, "backups"))
}
