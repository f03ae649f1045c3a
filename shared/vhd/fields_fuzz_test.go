package vhd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

// FuzzFields builds streams whose footer and header carry valid checksums
// around fuzzed field values (block size, entries, offsets, BAT, blocks), so
// the checks past the checksums and Expand are reached. The disk read is
// under bytes smaller than the footer's size, and the blocks' bytes end cut
// bytes early, so the footer's size rounded up (XAPI's VHD of a raw image),
// the bytes past the disk's end, and a last block cut at the disk's end
// with the footer copy after it are reached too.
func FuzzFields(f *testing.F) {
	f.Add(uint32(4096), uint32(3), uint64(512), uint64(2048), []byte{0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 15}, int64(3*4096), []byte{0xff}, uint16(0), uint16(0), uint16(0))
	f.Add(uint32(8192), uint32(2), uint64(512), uint64(1536), []byte{0, 0, 0, 4, 0, 0, 0, 21}, int64(2*8192-100), []byte{0x7f, 1, 2}, uint16(3), uint16(0), uint16(0))
	// vhd-tool's VHD of a raw image of 7192 bytes: block 1 cut at the disk's end.
	f.Add(uint32(4096), uint32(2), uint64(512), uint64(1536), []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 4}, int64(8192), []byte{0xff}, uint16(0), uint16(1000), uint16(1<<16-512-3096))
	// the same with the block whole: zeros past the disk's end, or not.
	f.Add(uint32(4096), uint32(2), uint64(512), uint64(1536), []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 4}, int64(8192), []byte{0}, uint16(0), uint16(1000), uint16(1<<16-512-4096))
	f.Add(uint32(4096), uint32(2), uint64(512), uint64(1536), []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 4}, int64(8192), []byte{1}, uint16(0), uint16(1000), uint16(1<<16-512-4096))
	f.Fuzz(func(t *testing.T, blockSize, entries uint32, dataOff, tableOff uint64, bat []byte, size int64, fill []byte, trailerPad, under, cut uint16) {
		if size < 0 || size > 1<<20 || blockSize > 1<<16 || entries > 1<<12 || dataOff > 4096 || tableOff > 8192 {
			return
		}
		virtual := max(size-int64(under), 0) // the disk the reader is told
		foot := marshalFooter(size, [16]byte{}, 0)
		binary.BigEndian.PutUint64(foot[16:], dataOff)
		binary.BigEndian.PutUint32(foot[64:], checksum(foot, 64))
		head := marshalHeader(entries, blockSize, footerSize+headerSize)
		binary.BigEndian.PutUint64(head[16:], tableOff)
		binary.BigEndian.PutUint32(head[36:], checksum(head, 36))
		var s bytes.Buffer
		put := func(at int64, b []byte) {
			if int64(s.Len()) < at {
				s.Write(make([]byte, at-int64(s.Len())))
			}
			if int64(s.Len()) == at {
				s.Write(b)
			}
		}
		put(0, foot)
		put(int64(dataOff), head)
		put(int64(tableOff), bat)
		// blocks: fill repeated over 64 KiB, then the trailer
		if len(fill) == 0 {
			fill = []byte{0}
		}
		body := bytes.Repeat(fill, (1<<16)/len(fill)+1)[:1<<16-int(cut)]
		put(roundSector(int64(s.Len())), body)
		put(int64(s.Len())+int64(trailerPad%4)*512, foot)
		vr, err := NewReader(bytes.NewReader(s.Bytes()), virtual)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("error neither format nor truncation: %v", err)
			}
			return
		}
		got, err := io.ReadAll(Expand(vr))
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("error neither format nor truncation: %v", err)
			}
			return
		}
		if int64(len(got)) != virtual {
			t.Fatalf("expanded %d bytes, the disk has %d", len(got), virtual)
		}
	})
}
