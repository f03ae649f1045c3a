package vhd

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Image describes the dynamic VHD Write produces.
type Image struct {
	Size int64    // the disk's virtual size in bytes
	UUID [16]byte // the footer's unique id
	// Blocks are the allocated blocks' indices (of DefaultBlockSize blocks),
	// in the order they are written to the file; XAPI writes them in
	// increasing order.
	Blocks []uint32
	// Read fills buf (DefaultBlockSize bytes) with block index's bytes;
	// bytes past the disk's end must be zero.
	Read func(index uint32, buf []byte) error
	// FromRaw writes the stream as XAPI's vhd-tool builds it from a raw
	// image (a raw file, or a volume it reads over NBD): the footer's size
	// is Size rounded up to a whole block, an empty sector lies between the
	// dynamic header and the BAT, and the data of a block holding the disk's
	// end stops there, the footer copy following it directly, because its
	// copy of the image stops at the image's end. Source: xen-api
	// ocaml/libs/vhd/vhd_format/f.ml vhd_from_raw and Header.create,
	// ocaml/vhd-tool/src/impl.ml stream_raw, direct_copy_stubs.c.
	FromRaw bool
}

// Write streams img to w: footer, dynamic header, BAT, the blocks (each with
// a full bitmap) and the footer copy. It returns the bytes written.
func Write(w io.Writer, img Image) (int64, error) {
	if img.Size < 0 || img.Size > MaxSize {
		return 0, fmt.Errorf("vhd: size %d: want 0 to %d", img.Size, int64(MaxSize))
	}
	const bs = DefaultBlockSize
	entries := uint32((img.Size + bs - 1) / bs)
	bat := make([]byte, roundSector(int64(entries)*4))
	for i := range bat {
		bat[i] = 0xFF
	}
	bm := bitmapSize(bs)
	tableOffset, stated := int64(footerSize+headerSize), img.Size
	if img.FromRaw {
		tableOffset, stated = footerSize+headerSize+SectorSize, int64(entries)*bs
	}
	next := tableOffset + int64(len(bat))
	for i, idx := range img.Blocks {
		if idx >= entries || binary.BigEndian.Uint32(bat[4*idx:]) != unallocated {
			return 0, fmt.Errorf("vhd: block %d: outside the disk's %d blocks or listed twice", idx, entries)
		}
		if img.FromRaw && i > 0 && idx < img.Blocks[i-1] {
			return 0, fmt.Errorf("vhd: block %d after block %d: vhd-tool writes blocks in increasing order", idx, img.Blocks[i-1])
		}
		binary.BigEndian.PutUint32(bat[4*idx:], uint32(next/SectorSize))
		next += bm + bs
	}
	foot := marshalFooter(stated, img.UUID, 0)
	cw := &countWriter{w: w}
	gap := make([]byte, tableOffset-footerSize-headerSize)
	for _, b := range [][]byte{foot, marshalHeader(entries, bs, tableOffset), gap, bat} {
		if _, err := cw.Write(b); err != nil {
			return cw.n, err
		}
	}
	if err := writeBlocks(cw, img, bm); err != nil {
		return cw.n, err
	}
	_, err := cw.Write(foot)
	return cw.n, err
}

func writeBlocks(w io.Writer, img Image, bm int64) error {
	buf := make([]byte, bm+DefaultBlockSize)
	for i := range bm {
		buf[i] = 0xFF
	}
	for _, idx := range img.Blocks {
		if err := img.Read(idx, buf[bm:]); err != nil {
			return fmt.Errorf("vhd: read block %d: %w", idx, err)
		}
		n := int64(len(buf))
		if end := int64(idx)*DefaultBlockSize + DefaultBlockSize; img.FromRaw && end > img.Size {
			n -= end - img.Size // vhd-tool's copy stops at the image's end
		}
		if _, err := w.Write(buf[:n]); err != nil {
			return err
		}
	}
	return nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// NonZeroBlocks lists, in increasing order, the DefaultBlockSize blocks of
// the first size bytes of r that hold a byte other than zero: the blocks a
// dynamic VHD of the disk allocates.
func NonZeroBlocks(r io.ReaderAt, size int64) ([]uint32, error) {
	var out []uint32
	buf := make([]byte, DefaultBlockSize)
	for off := int64(0); off < size; off += DefaultBlockSize {
		b := buf[:min(DefaultBlockSize, size-off)]
		clear(b)
		if _, err := r.ReadAt(b, off); err != nil && err != io.EOF {
			return nil, fmt.Errorf("vhd: read at %d: %w", off, err)
		}
		if !isZero(b) {
			out = append(out, uint32(off/DefaultBlockSize))
		}
	}
	return out, nil
}
