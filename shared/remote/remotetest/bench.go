package remotetest

import (
	"context"
	"fmt"
	"io"
	"testing"

	"xbr/shared/remote"
)

// BenchmarkStream measures streaming throughput: each iteration writes size bytes to a new key
// in 1 MiB writes (as an export does) and commits. Reported MB/s come from b.SetBytes.
func BenchmarkStream(b *testing.B, r remote.Remote, size, sizeHint int64) {
	chunk := make([]byte, 1<<20)
	if _, err := io.ReadFull(Data(42, int64(len(chunk))), chunk); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.SetBytes(size)
	for i := 0; b.Loop(); i++ {
		key := fmt.Sprintf("bench/%d.xva", i)
		u, err := r.Create(ctx, key, sizeHint)
		if err != nil {
			b.Fatal(err)
		}
		for left := size; left > 0; left -= int64(len(chunk)) {
			if _, err := u.Write(chunk[:min(left, int64(len(chunk)))]); err != nil {
				b.Fatal(err)
			}
		}
		if err := u.Commit(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := r.Delete(ctx, key); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
