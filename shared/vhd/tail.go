package vhd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// pastEnd reads what follows the disk's last n bytes of block e, the block
// holding the disk's end.
//
// XAPI's vhd-tool, building the VHD of a raw image (a raw file, a volume
// read over NBD), states the image's size rounded up to a whole block and
// copies the last block from the image only up to the image's end: the
// footer copy follows at once (xen-api ocaml/libs/vhd/vhd_format/f.ml
// vhd_from_raw; ocaml/vhd-tool/src/direct_copy_stubs.c stops at the end of
// its input). So when exactly one footer's bytes and the stream's end follow,
// they are the footer copy. Otherwise the rest of the block follows, and its
// mapped bytes the footer counts as the disk's (up to its size) must be
// zeros: data there is a disk larger than the VDI says.
func (vr *Reader) pastEnd(e batEntry, n int64) error {
	what := fmt.Sprintf("block %d", e.index)
	var peek [footerSize + 1]byte
	k, err := io.ReadFull(vr.r, peek[:])
	if k == footerSize && errors.Is(err, io.ErrUnexpectedEOF) {
		vr.pos += footerSize
		if vr.next != len(vr.order) {
			return formatErr("%s stops at the disk's end %d and the stream %d bytes later, before %d more blocks",
				what, vr.size, footerSize, len(vr.order)-vr.next)
		}
		vr.cut = true
		return vr.checkTrailer(peek[:footerSize])
	}
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return truncated(what+" data", vr.pos+int64(k), err)
	}
	// Not the cut form: what was read is the rest of the block's start.
	vr.r = io.MultiReader(bytes.NewReader(peek[:k]), vr.r)
	if err := vr.read(vr.buf[n:], what+" data"); err != nil {
		return err
	}
	return vr.zeroPastSize(e, n)
}

// zeroPastSize checks that the mapped bytes of block e from the disk's end
// (its n-th byte) to the footer's size are zeros.
func (vr *Reader) zeroPastSize(e batEntry, n int64) error {
	off := int64(e.index) * vr.blockSize
	limit := min(vr.stated-off, vr.blockSize)
	for at := n; at < limit; {
		s := at / SectorSize
		end := min((s+1)*SectorSize, limit)
		if vr.bitmap[s/8]&(0x80>>(s%8)) != 0 {
			if i := firstNonZero(vr.buf[at:end]); i >= 0 {
				return formatErr("block %d: a byte other than zero at disk offset %d, past the disk's virtual size %d "+
					"(the footer's size is %d): the VHD holds a larger disk than the VDI", e.index, off+at+int64(i), vr.size, vr.stated)
			}
		}
		at = end
	}
	return nil
}
