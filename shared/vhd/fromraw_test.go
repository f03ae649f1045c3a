package vhd_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"xbr/shared/vhd"
)

// encodeRaw writes d as XAPI's vhd-tool writes the VHD of a raw image.
func encodeRaw(t testing.TB, d []byte, blocks []uint32) []byte {
	t.Helper()
	var out bytes.Buffer
	_, err := vhd.Write(&out, vhd.Image{Size: int64(len(d)), Blocks: blocks, FromRaw: true, Read: func(i uint32, buf []byte) error {
		clear(buf)
		copy(buf, d[int64(i)*bs:])
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestFromRaw: the VHD vhd-tool builds from a raw image whose size is not a
// whole number of blocks (its footer states the size rounded up to a
// block; the block holding the disk's end, when allocated, stops there and
// the footer copy follows) reads back as exactly the disk.
func TestFromRaw(t *testing.T) {
	for _, tc := range []struct {
		name   string
		size   int64
		blocks []uint32
	}{
		{"whole blocks", 2 * bs, []uint32{0, 1}},
		{"last block unallocated", 2*bs + 4096, []uint32{0}},
		{"last block cut", 2*bs + 4096, []uint32{0, 2}},
		{"last block cut one sector short of a block", 3*bs - 512, []uint32{2}},
		{"last block cut mid-sector", 2*bs + 1000, []uint32{1, 2}},
		{"one block, cut", 4096, []uint32{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := disk(tc.size, tc.blocks...)
			img := encodeRaw(t, d, tc.blocks)
			entries := (tc.size + bs - 1) / bs
			if got := binary.BigEndian.Uint64(img[48:]); got != uint64(entries*bs) {
				t.Fatalf("footer current size %d, want %d: the size rounded up to a block", got, entries*bs)
			}
			want := 2048 + (entries*4+511)/512*512 + 512
			for _, b := range tc.blocks {
				want += 512 + min(bs, tc.size-int64(b)*bs)
			}
			if int64(len(img)) != want {
				t.Fatalf("stream of %d bytes, want %d", len(img), want)
			}
			vr, err := vhd.NewReader(bytes.NewReader(img), tc.size)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(vhd.Expand(vr))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, d) {
				t.Fatalf("expanded %d bytes, differing from the disk's %d", len(got), len(d))
			}
		})
	}
}

// TestFromRawRejects: a footer size past the disk's last block, data past
// the disk's size, a cut block with more after it, or a damaged footer
// after a cut block are format errors that say so.
func TestFromRawRejects(t *testing.T) {
	const size = 3*bs - 4096
	full := disk(3*bs, 2) // data up to the block's end
	for _, tc := range []struct {
		name, want string
		img        []byte
		size       int64
	}{
		{"footer a block over the disk", "footer current size 6291456, the disk's virtual size is 4194304",
			encodeRaw(t, disk(2*bs+4096, 0), []uint32{0}), 2 * bs},
		{"data past the virtual size", "a byte other than zero at disk offset 6287360, past the disk's virtual size 6287360",
			encode(t, full, []uint32{2}), size},
		{"damaged footer copy after a cut block", "trailing footer checksum",
			damageLast(encodeRaw(t, disk(size, 2), []uint32{2})), size},
		{"cut block before another", "block 1 stops at the disk's end",
			encodeRaw(t, disk(2*bs-4096, 1), []uint32{1}), 2*bs - 4096},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := tc.img
			if strings.HasPrefix(tc.name, "cut block before") {
				img = cutBeforeAnother(t, img)
			}
			_, err := expand(bytes.NewReader(img), tc.size)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, vhd.ErrFormat) {
				t.Fatalf("error %v, want a format error containing %q", err, tc.want)
			}
		})
	}
}

// damageLast flips a byte of the stream's last sector: the footer copy.
func damageLast(b []byte) []byte {
	b[len(b)-100] ^= 1
	return b
}

// cutBeforeAnother lists a second block in img's BAT (a one-entry-larger
// table would move everything; block 0's entry is free) after the cut one.
func cutBeforeAnother(t *testing.T, img []byte) []byte {
	t.Helper()
	const bat = 2048
	cut := binary.BigEndian.Uint32(img[bat+4:])
	binary.BigEndian.PutUint32(img[bat:], cut+(512+bs)/512) // block 0 after block 1 in the file
	return img
}
