package vhd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Block is one allocated block: its data (the block's bytes, cut at the
// disk's end) at byte Offset of the disk. Data is valid until the next call
// to Next.
type Block struct {
	Offset int64
	Data   []byte
}

// Reader reads a dynamic VHD from a stream; see the package doc.
type Reader struct {
	r         io.Reader
	pos       int64 // bytes read from r
	size      int64 // the disk's virtual size
	stated    int64 // the footer's current size: size, or size rounded up to a block
	blockSize int64
	order     []batEntry // allocated blocks by file offset
	dataEnd   int64      // the file offset where the last block ends
	metaEnd   int64      // the file offset where the BAT's last sector ends
	next      int
	bitmap    []byte
	buf       []byte
	cut       bool // the last block stopped at the disk's end and the footer copy was read after it
	done      bool
}

// batEntry is an allocated block: its index and its sector in the file.
type batEntry struct {
	index  uint32
	sector uint32
}

// NewReader reads the footer, the dynamic header and the BAT of a dynamic
// VHD of a disk of size bytes from r, which it then reads forward only.
// The footer's size is size, or size rounded up to a whole block, as
// XAPI's vhd-tool states it in the VHD of a raw image (see Image.FromRaw):
// then the bytes past size must be zeros or unallocated, and the block
// holding the disk's end may stop there, the footer copy following it.
func NewReader(r io.Reader, size int64) (*Reader, error) {
	vr := &Reader{r: r, size: size}
	b := make([]byte, headerSize)
	if err := vr.read(b[:footerSize], "footer"); err != nil {
		return nil, err
	}
	f, err := parseFooter(b[:footerSize])
	if err != nil {
		return nil, err
	}
	if err := vr.skip(int64(f.dataOffset), "footer data offset"); err != nil {
		return nil, err
	}
	if err := vr.read(b, "dynamic header"); err != nil {
		return nil, err
	}
	h, err := parseHeader(b)
	if err != nil {
		return nil, err
	}
	if err := vr.checkSize(f.currentSize, int64(h.blockSize)); err != nil {
		return nil, err
	}
	if err := vr.readBAT(f, h); err != nil {
		return nil, err
	}
	return vr, nil
}

// checkSize accepts the footer's current size: the disk's, or the disk's
// rounded up to a whole block (the last block's bytes past the disk are
// then checked as it is read).
func (vr *Reader) checkSize(stated uint64, blockSize int64) error {
	up := (vr.size + blockSize - 1) / blockSize * blockSize
	if stated < uint64(vr.size) || stated > uint64(up) {
		return formatErr("footer current size %d, the disk's virtual size is %d: want that, or at most %d (rounded up to a block of %d)",
			stated, vr.size, up, blockSize)
	}
	vr.stated = int64(stated)
	return nil
}

// readBAT reads the BAT and orders its allocated entries by file offset,
// checking that blocks start after the BAT and do not overlap.
func (vr *Reader) readBAT(f footer, h header) error {
	vr.blockSize = int64(h.blockSize)
	need := (vr.size + vr.blockSize - 1) / vr.blockSize
	if int64(h.entries) < need {
		return formatErr("dynamic header max table entries %d: a disk of %d bytes needs %d blocks of %d", h.entries, vr.size, need, vr.blockSize)
	}
	if h.tableOffset < f.dataOffset+headerSize {
		return formatErr("dynamic header table offset %d: inside the header at %d", h.tableOffset, f.dataOffset)
	}
	if err := vr.skip(int64(h.tableOffset), "dynamic header table offset"); err != nil {
		return err
	}
	var bat bytes.Buffer // grows with what arrives, not with what the header claims
	if n, err := io.CopyN(&bat, vr.r, int64(h.entries)*4); err != nil {
		return truncated(fmt.Sprintf("BAT of %d entries", h.entries), vr.pos+n, err)
	}
	vr.pos += int64(h.entries) * 4
	metaEnd := roundSector(vr.pos)
	raw := bat.Bytes()
	for i := range h.entries {
		s := binary.BigEndian.Uint32(raw[4*i:])
		if s == unallocated {
			continue
		}
		if int64(i) >= need {
			return formatErr("BAT entry %d (sector %d): a block past the disk's %d blocks", i, s, need)
		}
		vr.order = append(vr.order, batEntry{index: i, sector: s})
	}
	slices.SortFunc(vr.order, func(a, b batEntry) int { return int(int64(a.sector) - int64(b.sector)) })
	end := metaEnd
	for _, e := range vr.order {
		if at := int64(e.sector) * SectorSize; at < end {
			return formatErr("BAT entry %d: sector %d (offset %d) points back into the metadata or a block ending at %d", e.index, e.sector, at, end)
		}
		end = int64(e.sector)*SectorSize + bitmapSize(h.blockSize) + vr.blockSize
	}
	vr.dataEnd, vr.metaEnd = end, metaEnd
	return nil
}

// StreamSize is the stream's length as its BAT tells: the end of the last
// block and the footer copy (more when padding precedes that footer, less
// when the last block stops at the disk's end).
func (vr *Reader) StreamSize() int64 { return vr.dataEnd + footerSize }

// Next returns the next allocated block in file order, or io.EOF after the
// trailing footer when there is none.
func (vr *Reader) Next() (Block, error) {
	if vr.done {
		return Block{}, io.EOF
	}
	if vr.next == len(vr.order) {
		if !vr.cut {
			if err := vr.trailer(); err != nil {
				return Block{}, err
			}
		}
		vr.done = true
		return Block{}, io.EOF
	}
	e := vr.order[vr.next]
	vr.next++
	what := fmt.Sprintf("block %d", e.index)
	if err := vr.skip(max(vr.pos, vr.metaEnd), "BAT padding"); err != nil {
		return Block{}, err
	}
	if err := vr.skipZeros(int64(e.sector)*SectorSize, what); err != nil {
		return Block{}, err
	}
	if vr.buf == nil {
		vr.bitmap = make([]byte, bitmapSize(uint32(vr.blockSize)))
		vr.buf = make([]byte, vr.blockSize)
	}
	if err := vr.read(vr.bitmap, what+" bitmap"); err != nil {
		return Block{}, err
	}
	off := int64(e.index) * vr.blockSize
	n := min(vr.blockSize, vr.size-off) // the disk's bytes in the block
	if err := vr.read(vr.buf[:n], what+" data"); err != nil {
		return Block{}, err
	}
	if n < vr.blockSize {
		if err := vr.pastEnd(e, n); err != nil {
			return Block{}, err
		}
	}
	vr.clearUnmapped()
	return Block{Offset: off, Data: vr.buf[:n]}, nil
}

// clearUnmapped zeroes the sectors whose bitmap bit is clear.
func (vr *Reader) clearUnmapped() {
	for s := int64(0); s < vr.blockSize/SectorSize; s++ {
		if vr.bitmap[s/8]&(0x80>>(s%8)) == 0 {
			clear(vr.buf[s*SectorSize : (s+1)*SectorSize])
		}
	}
}

// trailer reads the footer copy at the end, after the padding and any zero
// sectors before it, and checks that the stream ends there.
func (vr *Reader) trailer() error {
	if err := vr.skip(roundSector(vr.pos), "BAT padding"); err != nil {
		return err
	}
	b := make([]byte, footerSize)
	for {
		if err := vr.read(b, "trailing footer"); err != nil {
			return err
		}
		if !isZero(b) {
			break
		}
	}
	if err := vr.checkTrailer(b); err != nil {
		return err
	}
	if n, _ := io.ReadFull(vr.r, b[:1]); n != 0 {
		return formatErr("data after the trailing footer at offset %d", vr.pos)
	}
	return nil
}

// checkTrailer checks the footer copy b against the footer.
func (vr *Reader) checkTrailer(b []byte) error {
	f, err := parseFooter(b)
	if err != nil {
		return formatErr("trailing %s", strings.TrimPrefix(err.Error(), ErrFormat.Error()+": "))
	}
	if f.currentSize != uint64(vr.stated) {
		return formatErr("trailing footer current size %d, the footer's is %d", f.currentSize, vr.stated)
	}
	return nil
}

// read fills b from the stream; what names it in errors.
func (vr *Reader) read(b []byte, what string) error {
	n, err := io.ReadFull(vr.r, b)
	vr.pos += int64(n)
	if err != nil {
		return truncated(what, vr.pos, err)
	}
	return nil
}

// skip reads and drops the stream up to offset to.
func (vr *Reader) skip(to int64, what string) error {
	if to < vr.pos {
		return formatErr("%s: offset %d is behind the stream position %d", what, to, vr.pos)
	}
	n, err := io.CopyN(io.Discard, vr.r, to-vr.pos)
	vr.pos += n
	if err != nil {
		return truncated(what, vr.pos, err)
	}
	return nil
}

// skipZeros is skip for the padding after the BAT's last sector and between
// blocks: vhd-tool writes none, and a byte other than zero there is a block
// the BAT does not list (a damaged entry) whose data would otherwise read as
// zeros.
func (vr *Reader) skipZeros(to int64, what string) error {
	if to < vr.pos {
		return formatErr("%s: offset %d is behind the stream position %d", what, to, vr.pos)
	}
	var buf [SectorSize]byte
	for vr.pos < to {
		b := buf[:min(int64(len(buf)), to-vr.pos)]
		at := vr.pos
		if err := vr.read(b, what); err != nil {
			return err
		}
		if !isZero(b) {
			return formatErr("%s: a byte other than zero at offset %d in the padding before offset %d: a block the BAT does not list?", what, at+int64(firstNonZero(b)), to)
		}
	}
	return nil
}

// truncated explains a read that failed at offset at: the transfer's fault, not the
// format's, so it does not wrap ErrFormat.
func truncated(what string, at int64, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("vhd: %s: the stream ends at offset %d: %w", what, at, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("vhd: %s at offset %d: %w", what, at, err)
}

func roundSector(n int64) int64 { return (n + SectorSize - 1) / SectorSize * SectorSize }

func firstNonZero(b []byte) int {
	for i, c := range b {
		if c != 0 {
			return i
		}
	}
	return -1
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
