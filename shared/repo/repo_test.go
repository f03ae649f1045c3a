package repo_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/s3"
	"xbr/shared/remote/s3/s3test"
	"xbr/shared/repo/repotest"
)

// Short names for the suite's helpers.
const (
	cs  = repotest.ChunkSize
	vmA = repotest.VMA
	vmB = repotest.VMB
)

var (
	t0         = repotest.T0
	diskImage  = repotest.DiskImage
	writePoint = repotest.WritePoint
	readDisk   = repotest.ReadDisk
	initRepo   = repotest.Init
	mustKey    = repotest.NewKey
	sum        = repotest.Sum
)

func TestDir(t *testing.T) { repotest.Run(t, newDir) }

func TestS3(t *testing.T) { repotest.Run(t, s3Remotes(t)) }

func newDir(t *testing.T) remote.Remote {
	d, err := dir.New("nfs", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// s3Remotes starts one gateway and returns a constructor of remotes, each under its own
// prefix in one bucket.
func s3Remotes(t *testing.T) repotest.NewRemote {
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
