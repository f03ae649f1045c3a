package prune_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"xbr/events"
	"xbr/functions/prune"
	"xbr/shared/config"
	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/remotetest"
)

// largestList records the most objects one List of the remote returned.
type largestList struct {
	remote.Remote
	most int
}

func (l *largestList) List(ctx context.Context, prefix string) ([]remote.Info, error) {
	infos, err := l.Remote.List(ctx, prefix)
	l.most = max(l.most, len(infos))
	return infos, err
}

// ListFolder is the directory remote's one-level listing; what it holds counts.
func (l *largestList) ListFolder(ctx context.Context, folder string) ([]remote.Info, []string, error) {
	objects, folders, err := l.Remote.(remote.FolderLister).ListFolder(ctx, folder)
	l.most = max(l.most, len(objects)+len(folders))
	return objects, folders, err
}

// Walk is the directory remote's, which holds no object.
func (l *largestList) Walk(ctx context.Context, prefix string, fn func(remote.Info)) error {
	return l.Remote.(remote.Walker).Walk(ctx, prefix, fn)
}

// TestUsageHoldsEveryObjectAtOnce: after every run (GC included) the prune
// function measures the job's remote. With one List of the whole remote it held
// an Info of every chunk of the repository at once (about 150 bytes each: some
// 300 MB for a 2 TiB repository of 1 MiB chunks); it walks a remote that can
// (remote.Walker: dir and s3), holding none. Here 512 chunks over 256 shards:
// no listing may hold more than a shard's, and the sums must be right.
func TestUsageHoldsEveryObjectAtOnce(t *testing.T) {
	ctx := context.Background()
	d, err := dir.New("nfs", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 512 {
		id := fmt.Sprintf("%02x%062x", i%256, i)
		remotetest.PutBytes(t, d, "xbr-repo/chunks/"+id[:2]+"/"+id, []byte("c"))
	}
	l := &largestList{Remote: d}
	jobs := []config.Job{{Name: "points", Mode: config.ModeIncremental, Remotes: []string{"nfs"}}}
	p := prune.New(jobs, oneRemote{l}, nil, nil, events.Subjects{}, prune.Options{})
	outs, err := p.Usage(ctx, events.RunCompleted{RunID: "4e1d3c2b5a69788796a5b4c3d2e1f001", Job: "points",
		Schedule: "daily", Status: events.StatusSuccess})
	if err != nil || len(outs) != 1 {
		t.Fatalf("Usage: %d events, %v", len(outs), err)
	}
	if l.most > 2 {
		t.Fatalf("one listing held %d objects: the usage measure holds every object of the remote at once", l.most)
	}
	var u events.RemoteUsage
	if err := json.Unmarshal(outs[0].Event.Data(), &u); err != nil {
		t.Fatal(err)
	}
	if u.Objects != 512 || u.UsedBytes != 512 {
		t.Fatalf("usage %+v, want 512 objects of 1 byte", u)
	}
}
