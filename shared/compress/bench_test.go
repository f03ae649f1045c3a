package compress_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"xbr/shared/compress"
)

// diskLike is 64 MiB mixed like what-works-here §5's sample: 40% zero,
// 30% random, 15% text, 15% repeated 4 KiB pages, in 1 MiB blocks.
func diskLike() []byte {
	const mib = 1 << 20
	rng := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, 64*mib)
	text := []byte("2024-01-01T00:00:00Z INFO request id=42 served in 12ms\n")
	for blk := 0; blk < 64; blk++ {
		p := b[blk*mib : (blk+1)*mib]
		switch blk % 20 {
		case 1, 5, 9, 12, 15, 19:
			for i := range p {
				p[i] = byte(rng.Uint32())
			}
		case 2, 8, 17:
			for i := range p {
				p[i] = text[i%len(text)]
			}
		case 4, 10, 16:
			for i := range p {
				p[i] = byte(i % 4096 / 16)
			}
		}
	}
	return b
}

func BenchmarkWriter(b *testing.B) {
	data := diskLike()
	for _, c := range []compress.Codec{compress.Gzip, compress.Zstd} {
		b.Run(string(c), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				w, err := compress.NewWriter(io.Discard, c, compress.WriterOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(w, bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
