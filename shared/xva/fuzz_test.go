package xva_test

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"xbr/shared/compress"
	"xbr/shared/xva"
)

// fuzzSeeds are small archives: plain, gzip, zstd, and a hand-built one
// with a keep-alive chunk, a gap and a SHA-1 checksum.
func fuzzSeeds(t testing.TB) [][]byte {
	small := []disk{{"Ref:2", content(30, "t", 700)}, {"Ref:3", []byte{0}}}
	var seeds [][]byte
	for _, c := range []compress.Codec{compress.None, compress.Gzip, compress.Zstd} {
		var buf bytes.Buffer
		zw, err := compress.NewWriter(&buf, c, compress.WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		writeXVA(t, zw, small...)
		zw.Close()
		seeds = append(seeds, buf.Bytes())
	}
	e := []ent{ovaFor(t, sized("Ref:2", 4*512))}
	e = append(e, chunk("Ref:2/00000000", bytes.Repeat([]byte("a"), 512))...)
	e = append(e, chunk("Ref:2/00000001", nil)...)
	b := bytes.Repeat([]byte("b"), 512)
	sum := sha1.Sum(b)
	e = append(e, ent{"Ref:2/00000002", b}, ent{"Ref:2/00000002.checksum", []byte(hex.EncodeToString(sum[:]))})
	e = append(e, chunk("Ref:2/00000004", bytes.Repeat([]byte("c"), 512))...)
	return append(seeds, build(t, e...))
}

func FuzzReader(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := xva.NewReader(bytes.NewReader(data))
		if err != nil {
			checkNamed(t, err)
			return
		}
		defer r.Close()
		for range 8 {
			d, dr, err := r.NextDisk()
			if err != nil {
				if err != io.EOF {
					checkNamed(t, err)
				}
				return
			}
			// Bound the work: a tiny archive may declare a huge sparse disk.
			n, err := io.CopyN(io.Discard, dr, 64<<20)
			switch {
			case err == io.EOF && n != d.Size:
				t.Fatalf("disk %s: clean end after %d bytes, size %d", d.ID, n, d.Size)
			case err != nil && err != io.EOF:
				checkNamed(t, err)
				return
			case err == nil:
				return
			}
		}
	})
}

func ovaSeeds(t testing.TB) [][]byte {
	h, err := xva.BuildHeader(testVersion, exportSet())
	if err != nil {
		t.Fatal(err)
	}
	var seeds [][]byte
	for _, hdr := range []*xva.Header{testHeader(sized("Ref:2", 10)), h, {}} {
		b, err := hdr.MarshalOVA()
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}

func FuzzParseOVA(f *testing.F) {
	for _, s := range ovaSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := xva.ParseOVA(data)
		if err != nil {
			checkNamed(t, err)
			return
		}
		disks, err := h.Disks()
		if err != nil {
			checkNamed(t, err)
			return
		}
		for _, d := range disks {
			if d.Size < 0 || d.VDI == nil {
				t.Fatalf("disk %+v", d)
			}
		}
	})
}

// checkNamed asserts a reader error says where it comes from.
func checkNamed(t *testing.T, err error) {
	t.Helper()
	if !strings.HasPrefix(err.Error(), "xva: ") {
		t.Fatalf("error without the xva prefix: %v", err)
	}
	if !errors.Is(err, xva.ErrFormat) && !errors.Is(err, xva.ErrChecksum) {
		t.Fatalf("error is neither ErrFormat nor ErrChecksum: %v", err)
	}
}

// TestWriteFuzzSeeds writes the seed corpora under testdata/fuzz (with
// -update) and checks every committed seed is accepted by the fuzz bodies.
func TestWriteFuzzSeeds(t *testing.T) {
	corpora := map[string][][]byte{"FuzzReader": fuzzSeeds(t), "FuzzParseOVA": ovaSeeds(t)}
	for name, seeds := range corpora {
		dir := filepath.Join("testdata", "fuzz", name)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			for i, s := range seeds {
				body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%d", i)), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		if entries, err := os.ReadDir(dir); err != nil || len(entries) < len(seeds) {
			t.Fatalf("seeds missing in %s (%v); run with -update", dir, err)
		}
	}
	for i, s := range corpora["FuzzReader"] {
		if _, _, err := readAll(t, bytes.NewReader(s), false); err != nil {
			t.Errorf("FuzzReader seed %d does not read: %v", i, err)
		}
	}
}
