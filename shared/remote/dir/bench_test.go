package dir_test

import (
	"context"
	"fmt"
	"testing"

	"xbr/shared/remote/dir"
	"xbr/shared/remote/remotetest"
)

// BenchmarkStream: go test -run '^$' -bench . ./shared/remote/dir
func BenchmarkStream(b *testing.B) {
	d, err := dir.New("bench", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	remotetest.BenchmarkStream(b, d, 256<<20, 256<<20)
}

// BenchmarkBatchPut stores 300 KiB objects through a Batch spread over 256 folders, each
// after a Stat, as a repository stores a first run's compressed chunks.
func BenchmarkBatchPut(b *testing.B) {
	d, err := dir.New("bench", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	bt, err := d.NewBatch(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer bt.Close()
	data := make([]byte, 300<<10)
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		key := fmt.Sprintf("xbr-repo/chunks/%02x/%064x", i%256, i)
		if _, err := bt.Stat(ctx, key); err == nil {
			b.Fatal("exists")
		}
		if err := bt.Put(ctx, key, data); err != nil {
			b.Fatal(err)
		}
	}
	if err := bt.Barrier(ctx); err != nil {
		b.Fatal(err)
	}
}
