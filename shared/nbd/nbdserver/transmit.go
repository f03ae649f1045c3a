package nbdserver

import (
	"errors"
	"fmt"
	"io"

	"xbr/shared/nbd"
)

// transmit serves requests one at a time until DISC or a broken frame.
func (c *conn) transmit(exp Export) error {
	var h [28]byte
	for {
		if _, err := io.ReadFull(c, h[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		req, err := nbd.ParseRequest(h[:])
		if err != nil {
			return err
		}
		switch req.Type {
		case nbd.CmdRead:
			err = c.read(exp, req)
		case nbd.CmdWrite:
			// The payload follows; drain it to keep the framing, then refuse.
			if _, err = io.CopyN(io.Discard, c, int64(req.Length)); err == nil {
				err = c.simple(nbd.EPERM, req.Cookie)
			}
		case nbd.CmdDisc:
			return nil
		default:
			err = c.simple(nbd.EINVAL, req.Cookie)
		}
		if err != nil {
			return err
		}
	}
}

// simple sends a simple reply header.
func (c *conn) simple(errno uint32, cookie uint64) error {
	_, err := c.Write(nbd.AppendSimpleReply(nil, errno, cookie))
	return err
}

// read answers a READ: EINVAL unless aligned and inside the export, else
// the header then the data in chunk-sized pieces. A read error after the
// header ends the connection, as the reply cannot be taken back.
func (c *conn) read(exp Export, req nbd.Request) error {
	off, n := int64(req.Offset), int64(req.Length)
	if req.Offset%nbd.SectorSize != 0 || n%nbd.SectorSize != 0 || req.Offset > uint64(exp.Size) || n > exp.Size-off {
		return c.simple(nbd.EINVAL, req.Cookie)
	}
	if err := c.simple(0, req.Cookie); err != nil {
		return err
	}
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	for done := int64(0); done < n; {
		b := (*bp)[:min(chunk, n-done)]
		if k, err := exp.Data.ReadAt(b, off+done); k < len(b) {
			return fmt.Errorf("read export at %d: %d of %d bytes: %w", off+done, k, len(b), err)
		}
		if c.s.cfg.OnRead != nil { // counted before it is sent: a client holding the bytes sees them counted
			c.s.cfg.OnRead(int64(len(b)))
		}
		if _, err := c.Write(b); err != nil {
			return err
		}
		done += int64(len(b))
	}
	return nil
}
