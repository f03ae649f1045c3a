package gateway

import (
	"context"
	"fmt"
	"testing"
	"time"

	"xbr/shared/config"
	"xbr/shared/fn"
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

// Walk is the directory remote's, which holds no object.
func (l *largestList) Walk(ctx context.Context, prefix string, fn func(remote.Info)) error {
	return l.Remote.(remote.Walker).Walk(ctx, prefix, fn)
}

// TestSpaceHoldsEveryObjectAtOnce: the Protection page shows each remote's used
// bytes. With one List of the whole remote it held an Info of every object at
// once (a 2 TiB repository of 1 MiB chunks: some 2 million, 300 MB) on every
// refresh of the page; it walks a remote that can (remote.Walker), as the
// prune function's usage measure does. Here 512 chunks over 256 shards: no
// listing may hold more than a shard's, and the sum must be right.
func TestSpaceHoldsEveryObjectAtOnce(t *testing.T) {
	d, err := dir.New("nfs", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 512 {
		id := fmt.Sprintf("%02x%062x", i%256, i)
		remotetest.PutBytes(t, d, "xbr-repo/chunks/"+id[:2]+"/"+id, []byte("chunk"))
	}
	l := &largestList{Remote: d}
	cfg := []config.Remote{{Name: "nfs", Type: config.RemoteDir}}
	s := &Server{env: &fn.Env{Remotes: fn.NewRemotes(cfg, func(context.Context, config.Remote) (remote.Remote, error) { return l, nil })}}
	used, err := s.usedBytes(context.Background(), "nfs", time.Now())
	if err != nil || used != 512*5 {
		t.Fatalf("usedBytes = %d, %v; want %d", used, err, 512*5)
	}
	if l.most > 2 {
		t.Fatalf("one listing held %d objects: the space view holds every object of the remote at once", l.most)
	}
}
