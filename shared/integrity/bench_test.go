package integrity_test

import (
	"context"
	"os"
	"testing"

	"xbr/shared/compress"
	"xbr/shared/integrity"
)

// BenchmarkVerify reads a 256 MiB-disk backup: the SHA-256 pass and the
// deep pass (SHA-256 + XVA parse + every chunk's XXH64).
func BenchmarkVerify(b *testing.B) {
	for _, c := range []struct {
		name  string
		codec compress.Codec
		deep  bool
	}{{"none/sha", compress.None, false}, {"none/deep", compress.None, true}, {"zstd/deep", compress.Zstd, true}} {
		b.Run(c.name, func(b *testing.B) {
			d := newRemote(b)
			id := writeBackup(b, d, backupTime, c.codec, 256<<20)
			fi, err := os.Stat(dataPath(d, id))
			check(b, err)
			b.SetBytes(fi.Size())
			for b.Loop() {
				if res := integrity.Backup(context.Background(), d, id, integrity.Options{Deep: c.deep}); !res.OK() {
					b.Fatal(res.Err)
				}
			}
		})
	}
}
