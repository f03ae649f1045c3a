package vhd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrFormat is wrapped by every error about the stream's content (not about reading it):
// a stream xbr cannot read as a dynamic VHD of the disk.
var ErrFormat = errors.New("vhd")

// formatErr is an error about the stream's content, wrapping ErrFormat.
func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

const (
	// SectorSize is the VHD sector, the unit of BAT offsets and bitmap bits.
	SectorSize = 512
	// DefaultBlockSize is the block size XAPI writes.
	DefaultBlockSize = 2 << 20
	// MaxSize is the largest disk a VHD holds as XAPI counts it (2040 GiB);
	// XAPI refuses format=vhd above it with VDI_TOO_LARGE.
	MaxSize = 2040 << 30

	footerSize = 512
	headerSize = 1024
	// unallocated is a BAT entry for a block that is not in the file.
	unallocated = 0xFFFFFFFF
	// minBlockSize and maxBlockSize bound what Reader accepts: a block must
	// hold at least one bitmap byte's sectors, and one block is held in memory.
	minBlockSize = 8 * SectorSize
	maxBlockSize = 32 << 20
	// maxEntries bounds the BAT Reader holds (16 MiB).
	maxEntries = 1 << 22

	diskTypeDynamic = 3
	version1        = 0x00010000
)

var (
	footerCookie = []byte("conectix")
	headerCookie = []byte("cxsparse")
)

// footer is what Reader uses of the hard disk footer.
type footer struct {
	dataOffset  uint64
	currentSize uint64
	diskType    uint32
}

// header is what Reader uses of the dynamic disk header.
type header struct {
	tableOffset uint64
	entries     uint32
	blockSize   uint32
}

// checksum is the ones' complement of the sum of b's bytes, the bytes of
// the checksum field at [at, at+4) counted as zero.
func checksum(b []byte, at int) uint32 {
	var sum uint32
	for i, c := range b {
		if i < at || i >= at+4 {
			sum += uint32(c)
		}
	}
	return ^sum
}

func parseFooter(b []byte) (footer, error) {
	if !bytes.Equal(b[:8], footerCookie) {
		return footer{}, formatErr("footer cookie %q, want %q", b[:8], footerCookie)
	}
	if got, want := binary.BigEndian.Uint32(b[64:]), checksum(b, 64); got != want {
		return footer{}, formatErr("footer checksum %#08x, want %#08x", got, want)
	}
	if v := binary.BigEndian.Uint32(b[12:]); v != version1 {
		return footer{}, formatErr("footer file format version %#08x, want %#08x", v, version1)
	}
	f := footer{dataOffset: binary.BigEndian.Uint64(b[16:]), currentSize: binary.BigEndian.Uint64(b[48:]),
		diskType: binary.BigEndian.Uint32(b[60:])}
	if f.diskType != diskTypeDynamic {
		return footer{}, formatErr("footer disk type %d, want %d (dynamic)", f.diskType, diskTypeDynamic)
	}
	if f.dataOffset < footerSize || f.dataOffset%SectorSize != 0 || f.dataOffset > 1<<20 {
		return footer{}, formatErr("footer data offset %d: want a sector multiple from %d to 1 MiB", f.dataOffset, footerSize)
	}
	return f, nil
}

func parseHeader(b []byte) (header, error) {
	if !bytes.Equal(b[:8], headerCookie) {
		return header{}, formatErr("dynamic header cookie %q, want %q", b[:8], headerCookie)
	}
	if got, want := binary.BigEndian.Uint32(b[36:]), checksum(b, 36); got != want {
		return header{}, formatErr("dynamic header checksum %#08x, want %#08x", got, want)
	}
	if v := binary.BigEndian.Uint32(b[24:]); v != version1 {
		return header{}, formatErr("dynamic header version %#08x, want %#08x", v, version1)
	}
	h := header{tableOffset: binary.BigEndian.Uint64(b[16:]), entries: binary.BigEndian.Uint32(b[28:]),
		blockSize: binary.BigEndian.Uint32(b[32:])}
	bs := h.blockSize
	if bs < minBlockSize || bs > maxBlockSize || bs&(bs-1) != 0 {
		return header{}, formatErr("dynamic header block size %d: want a power of two from %d to %d", bs, minBlockSize, maxBlockSize)
	}
	if h.entries > maxEntries {
		return header{}, formatErr("dynamic header max table entries %d: more than %d", h.entries, maxEntries)
	}
	if h.tableOffset%SectorSize != 0 || h.tableOffset > 1<<30 {
		return header{}, formatErr("dynamic header table offset %d: want a sector multiple below 1 GiB", h.tableOffset)
	}
	return h, nil
}

// bitmapSize is the bytes of a block's sector bitmap, padded to a sector.
func bitmapSize(blockSize uint32) int64 {
	n := int64(blockSize) / SectorSize / 8
	return (n + SectorSize - 1) / SectorSize * SectorSize
}

// marshalFooter is a dynamic disk's footer for a disk of size bytes.
func marshalFooter(size int64, uuid [16]byte, stamp uint32) []byte {
	b := make([]byte, footerSize)
	copy(b, footerCookie)
	binary.BigEndian.PutUint32(b[8:], 2) // features: reserved bit always set
	binary.BigEndian.PutUint32(b[12:], version1)
	binary.BigEndian.PutUint64(b[16:], footerSize)
	binary.BigEndian.PutUint32(b[24:], stamp)
	copy(b[28:], "xbr ")
	binary.BigEndian.PutUint32(b[32:], version1)
	copy(b[36:], "Wi2k")
	binary.BigEndian.PutUint64(b[40:], uint64(size))
	binary.BigEndian.PutUint64(b[48:], uint64(size))
	binary.BigEndian.PutUint32(b[56:], geometry(size))
	binary.BigEndian.PutUint32(b[60:], diskTypeDynamic)
	copy(b[68:], uuid[:])
	binary.BigEndian.PutUint32(b[64:], checksum(b, 64))
	return b
}

// marshalHeader is a dynamic header whose BAT is at tableOffset.
func marshalHeader(entries, blockSize uint32, tableOffset int64) []byte {
	b := make([]byte, headerSize)
	copy(b, headerCookie)
	binary.BigEndian.PutUint64(b[8:], ^uint64(0))
	binary.BigEndian.PutUint64(b[16:], uint64(tableOffset))
	binary.BigEndian.PutUint32(b[24:], version1)
	binary.BigEndian.PutUint32(b[28:], entries)
	binary.BigEndian.PutUint32(b[32:], blockSize)
	binary.BigEndian.PutUint32(b[36:], checksum(b, 36))
	return b
}

// geometry is the CHS value of the specification's appendix for size bytes.
func geometry(size int64) uint32 {
	sectors := size / SectorSize
	sectors = min(sectors, 65535*16*255)
	var spt, heads, cth int64
	if sectors >= 65535*16*63 {
		spt, heads = 255, 16
		cth = sectors / spt
	} else {
		spt = 17
		cth = sectors / spt
		heads = max((cth+1023)/1024, 4)
		if cth >= heads*1024 || heads > 16 {
			spt, heads = 31, 16
			cth = sectors / spt
		}
		if cth >= heads*1024 {
			spt, heads = 63, 16
			cth = sectors / spt
		}
	}
	return uint32(cth/heads)<<16 | uint32(heads)<<8 | uint32(spt)
}
