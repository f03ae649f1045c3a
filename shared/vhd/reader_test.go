package vhd_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"xbr/shared/vhd"
)

const bs = vhd.DefaultBlockSize

// disk is a size-byte disk whose listed blocks hold seeded random bytes.
func disk(size int64, blocks ...uint32) []byte {
	d := make([]byte, size)
	rng := rand.New(rand.NewPCG(uint64(size), 7))
	for _, b := range blocks {
		off := int64(b) * bs
		for i := off; i < min(off+bs, size); i++ {
			d[i] = byte(rng.Uint32() | 1)
		}
	}
	return d
}

// encode writes d as a dynamic VHD with blocks in the given file order.
func encode(t testing.TB, d []byte, order []uint32) []byte {
	t.Helper()
	var out bytes.Buffer
	_, err := vhd.Write(&out, vhd.Image{Size: int64(len(d)), Blocks: order, Read: func(i uint32, buf []byte) error {
		clear(buf)
		copy(buf, d[int64(i)*bs:])
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// expand reads a VHD stream back into a disk image.
func expand(r io.Reader, size int64) ([]byte, error) {
	vr, err := vhd.NewReader(r, size)
	if err != nil {
		return nil, err
	}
	d := make([]byte, size)
	for {
		b, err := vr.Next()
		if err == io.EOF {
			return d, nil
		}
		if err != nil {
			return nil, err
		}
		copy(d[b.Offset:], b.Data)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name  string
		size  int64
		order []uint32
	}{
		{"empty disk", 0, nil},
		{"no block allocated", 3 * bs, nil},
		{"every block", 3 * bs, []uint32{0, 1, 2}},
		{"holes", 5 * bs, []uint32{1, 3}},
		{"short last block", 2*bs + 4096, []uint32{0, 2}},
		{"file order differs from BAT order", 4 * bs, []uint32{3, 0, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := disk(tc.size, tc.order...)
			img := encode(t, d, tc.order)
			if want := int64(1536+512) + int64(len(tc.order))*(bs+512) + 512; tc.size > 0 && int64(len(img)) > want+512 {
				t.Errorf("image of %d bytes, want about %d: zero blocks were stored", len(img), want)
			}
			got, err := expand(bytes.NewReader(img), tc.size)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, d) {
				t.Fatal("the expanded image differs from the disk")
			}
			vr, _ := vhd.NewReader(bytes.NewReader(img), tc.size)
			if vr.StreamSize() != int64(len(img)) {
				t.Errorf("StreamSize %d, the stream has %d bytes", vr.StreamSize(), len(img))
			}
		})
	}
}

// TestReaderOrder: blocks come in file order, each with its disk offset.
func TestReaderOrder(t *testing.T) {
	d := disk(4*bs, 3, 0, 2)
	vr, err := vhd.NewReader(bytes.NewReader(encode(t, d, []uint32{3, 0, 2})), 4*bs)
	if err != nil {
		t.Fatal(err)
	}
	var offs []int64
	for {
		b, err := vr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		offs = append(offs, b.Offset)
	}
	if want := []int64{3 * bs, 0, 2 * bs}; !slices.Equal(offs, want) {
		t.Fatalf("offsets %v, want %v", offs, want)
	}
}

// TestUnmappedSectorsReadZero: a clear bitmap bit makes its sector zeros,
// whatever the file holds there.
func TestUnmappedSectorsReadZero(t *testing.T) {
	d := disk(bs, 0)
	img := encode(t, d, []uint32{0})
	bitmap := 1536 + 512 // header, BAT of one entry padded to a sector
	img[bitmap] = 0x7F   // sector 0 not mapped
	got, err := expand(bytes.NewReader(img), bs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:512], make([]byte, 512)) || !bytes.Equal(got[512:], d[512:]) {
		t.Fatal("sector 0 should read as zeros and the rest as written")
	}
}

// TestPaddingBetweenBlocks: gaps between blocks and before the footer copy are skipped.
func TestPaddingBetweenBlocks(t *testing.T) {
	d := disk(2*bs, 0, 1)
	img := encode(t, d, []uint32{0, 1})
	// Move block 1 one sector further: BAT entry 1 += 1, one sector inserted.
	start := 1536 + 512 + 512 + bs
	binary.BigEndian.PutUint32(img[1536+4:], binary.BigEndian.Uint32(img[1536+4:])+1)
	padded := append(append(append([]byte{}, img[:start]...), make([]byte, 512)...), img[start:]...)
	padded = append(append(padded[:len(padded)-512:len(padded)-512], make([]byte, 1024)...), img[len(img)-512:]...)
	got, err := expand(bytes.NewReader(padded), 2*bs)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, d) {
		t.Fatal("the expanded image differs from the disk")
	}
}

func TestReaderRejects(t *testing.T) {
	good := func() []byte { return encode(t, disk(3*bs, 0, 2), []uint32{0, 2}) }
	footSum := func(b []byte) { fixSum(b[:512], 64) }
	headSum := func(b []byte) { fixSum(b[512:1536], 512+36-512) }
	for _, tc := range []struct {
		name, want string
		size       int64
		edit       func([]byte) []byte
	}{
		{"footer cookie", "footer cookie", 3 * bs, func(b []byte) []byte { b[0] = 'X'; return b }},
		{"footer checksum", "footer checksum", 3 * bs, func(b []byte) []byte { b[100] ^= 1; return b }},
		{"disk type", "disk type 4", 3 * bs, func(b []byte) []byte { b[63] = 4; footSum(b); return b }},
		{"size mismatch", "current size 6291456, the disk's virtual size is 4194304", 2 * bs, nil},
		{"header cookie", "dynamic header cookie", 3 * bs, func(b []byte) []byte { b[512] = 'X'; return b }},
		{"header checksum", "dynamic header checksum", 3 * bs, func(b []byte) []byte { b[512+100] ^= 1; return b }},
		{"block size not a power of two", "block size 3145728", 3 * bs, func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[512+32:], 3<<20)
			headSum(b)
			return b
		}},
		{"absurd block size", "block size 1073741824", 3 * bs, func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[512+32:], 1<<30)
			headSum(b)
			return b
		}},
		{"too few entries", "max table entries 2", 3 * bs, func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[512+28:], 2)
			headSum(b)
			return b
		}},
		{"BAT entry into the metadata", "BAT entry 0: sector 2", 3 * bs, func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[1536:], 2)
			return b
		}},
		{"overlapping blocks", "BAT entry 2: sector", 3 * bs, func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[1536+8:], binary.BigEndian.Uint32(b[1536:])+8)
			return b
		}},
		{"block past the end", "BAT entry 3", 3 * bs, func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[512+28:], 4)
			headSum(b)
			binary.BigEndian.PutUint32(b[1536+12:], 1<<20)
			return b
		}},
		{"truncated BAT", "BAT of 3 entries: the stream ends", 3 * bs, func(b []byte) []byte { return b[:1540] }},
		{"truncated block", "block 2 data: the stream ends", 3 * bs, func(b []byte) []byte { return b[:len(b)-1000] }},
		{"missing trailing footer", "trailing footer: the stream ends", 3 * bs, func(b []byte) []byte { return b[:len(b)-512] }},
		{"bad trailing footer", "trailing footer cookie", 3 * bs, func(b []byte) []byte { b[len(b)-512] = 'X'; return b }},
		{"data after the footer", "data after the trailing footer", 3 * bs, func(b []byte) []byte { return append(b, 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := good()
			if tc.edit != nil {
				b = tc.edit(b)
			}
			_, err := expand(bytes.NewReader(b), tc.size)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			// a cut stream is the transfer's fault, anything else the format's
			if cut := strings.Contains(tc.want, "the stream ends"); errors.Is(err, vhd.ErrFormat) == cut {
				t.Fatalf("error %v: errors.Is(err, ErrFormat) = %v for a stream cut %v", err, !cut, cut)
			}
		})
	}
}

// TestTruncationIsUnexpectedEOF: a cut stream says so to errors.Is.
func TestTruncationIsUnexpectedEOF(t *testing.T) {
	b := encode(t, disk(bs, 0), []uint32{0})
	_, err := expand(bytes.NewReader(b[:3000]), bs)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("error %v, want io.ErrUnexpectedEOF", err)
	}
}

// fixSum recomputes the checksum at b[at:at+4].
func fixSum(b []byte, at int) {
	var sum uint32
	for i, c := range b {
		if i < at || i >= at+4 {
			sum += uint32(c)
		}
	}
	binary.BigEndian.PutUint32(b[at:], ^sum)
}

func TestNonZeroBlocks(t *testing.T) {
	d := disk(4*bs+100, 1, 4)
	got, err := vhd.NonZeroBlocks(bytes.NewReader(d), int64(len(d)))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 4 {
		t.Fatalf("blocks %v, want [1 4]", got)
	}
}

func FuzzReader(f *testing.F) {
	f.Add(encode(f, disk(bs+4096, 1), []uint32{1}), int64(bs+4096))
	f.Add(encode(f, disk(2*bs, 0, 1), []uint32{1, 0}), int64(2*bs))
	f.Add(encode(f, nil, nil), int64(0))
	// vhd-tool's VHD of a raw image: the footer's size rounded up to a block,
	// the last block cut at the disk's end, or not allocated.
	f.Add(encodeRaw(f, disk(bs+4096, 1), []uint32{1}), int64(bs+4096))
	f.Add(encodeRaw(f, disk(bs+4096, 0), []uint32{0}), int64(bs+4096))
	f.Fuzz(func(t *testing.T, b []byte, size int64) {
		if size < 0 || size > 64<<20 {
			return
		}
		vr, err := vhd.NewReader(bytes.NewReader(b), size)
		if err != nil {
			return
		}
		for {
			blk, err := vr.Next()
			if err != nil {
				return
			}
			if blk.Offset < 0 || blk.Offset+int64(len(blk.Data)) > size {
				t.Fatalf("block at %d of %d bytes outside the disk of %d", blk.Offset, len(blk.Data), size)
			}
		}
	})
}

// TestExpand: the expanded stream is the disk, whatever the read sizes.
func TestExpand(t *testing.T) {
	d := disk(5*bs+1536, 1, 3, 5)
	for _, n := range []int{1 << 20, 777, 3 * bs} {
		vr, err := vhd.NewReader(bytes.NewReader(encode(t, d, []uint32{1, 3, 5})), int64(len(d)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(bufio.NewReaderSize(vhd.Expand(vr), n))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, d) {
			t.Fatalf("reads of %d: the expanded stream differs from the disk", n)
		}
	}
}

// TestExpandOutOfOrder: a block behind the position is an error, not a
// silently wrong image.
func TestExpandOutOfOrder(t *testing.T) {
	d := disk(4*bs, 3, 0)
	vr, err := vhd.NewReader(bytes.NewReader(encode(t, d, []uint32{3, 0})), 4*bs)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(vhd.Expand(vr))
	if err == nil || !strings.Contains(err.Error(), "not in disk order") {
		t.Fatalf("error %v, want one saying the blocks are not in disk order", err)
	}
}
