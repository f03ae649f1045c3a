package vhd

import (
	"io"
)

// Expand returns the disk's bytes in order from vr: each allocated block's
// data, zeros between and after them, io.EOF at the disk's end. Only one
// block is held. A block that comes before the position already reached
// (a stream not in disk order) is an error, as is any error of vr.
func Expand(vr *Reader) io.Reader { return &expander{vr: vr} }

type expander struct {
	vr   *Reader
	pos  int64 // disk offset of the next byte
	cur  Block
	more bool // cur holds a block not yet passed
	end  bool // vr has no more blocks
	err  error
}

func (e *expander) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if !e.more && !e.end {
		if e.err = e.advance(); e.err != nil {
			return 0, e.err
		}
	}
	if e.pos >= e.vr.size {
		return 0, io.EOF
	}
	stop := e.vr.size // zeros up to the next block, or to the end
	if e.more {
		stop = e.cur.Offset
	}
	if e.pos < stop {
		n := int(min(int64(len(p)), stop-e.pos))
		clear(p[:n])
		e.pos += int64(n)
		return n, nil
	}
	n := copy(p, e.cur.Data[e.pos-e.cur.Offset:])
	e.pos += int64(n)
	if e.pos == e.cur.Offset+int64(len(e.cur.Data)) {
		e.more = false
	}
	return n, nil
}

// advance takes the next block from vr.
func (e *expander) advance() error {
	b, err := e.vr.Next()
	if err == io.EOF {
		e.end = true
		return nil
	}
	if err != nil {
		return err
	}
	if b.Offset < e.pos {
		return formatErr("block at disk offset %d comes after offset %d: the VHD's blocks are not in disk order", b.Offset, e.pos)
	}
	e.cur, e.more = b, true
	return nil
}
