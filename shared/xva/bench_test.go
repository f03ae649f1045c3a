package xva_test

import (
	"bytes"
	"io"
	"testing"

	"xbr/shared/compress"
	"xbr/shared/xva"
)

// realistic is a 64 MiB disk mixed like what-works-here §5's sample:
// 40% zeros, 30% random, 15% text, 15% database pages.
const realistic = "zrtzdrzzrtzdrzrzztrd"

func benchDisk() []byte { return content(42, realistic, 64*mib) }

func BenchmarkWriter(b *testing.B) {
	d := benchDisk()
	ova, _ := testHeader(disk{"Ref:2", d}).MarshalOVA()
	b.SetBytes(int64(len(d)))
	b.ResetTimer()
	for b.Loop() {
		w := xva.NewWriter(io.Discard, xva.WriterOptions{})
		if err := w.WriteOVA(ova); err != nil {
			b.Fatal(err)
		}
		if err := w.WriteDisk("Ref:2", int64(len(d)), bytes.NewReader(d)); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReader(b *testing.B) {
	d := benchDisk()
	for _, c := range []compress.Codec{compress.None, compress.Gzip, compress.Zstd} {
		b.Run(string(c), func(b *testing.B) {
			var buf bytes.Buffer
			zw, _ := compress.NewWriter(&buf, c, compress.WriterOptions{})
			writeXVA(b, zw, disk{"Ref:2", d})
			zw.Close()
			archive := buf.Bytes()
			b.SetBytes(int64(len(d)))
			b.ResetTimer()
			for b.Loop() {
				r, err := xva.NewReader(bytes.NewReader(archive))
				if err != nil {
					b.Fatal(err)
				}
				_, dr, err := r.NextDisk()
				if err != nil {
					b.Fatal(err)
				}
				if n, err := io.Copy(io.Discard, dr); err != nil || n != int64(len(d)) {
					b.Fatal(n, err)
				}
				if _, _, err := r.NextDisk(); err != io.EOF {
					b.Fatal(err)
				}
				r.Close()
			}
		})
	}
}
