package nbdserver

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"xbr/shared/nbd"
)

// maxOption bounds an option's data; longer options close the connection.
const maxOption = 64 << 10

// chunk is the piece size reads are sent in. xapi-nbd sends 512 KiB
// pieces; the stream cannot tell, and the simulator generates its disks in
// 1 MiB blocks, which this size reads once each.
const chunk = 1 << 20

var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunk); return &b }}

// conn is one client connection.
type conn struct {
	s    *Server
	raw  net.Conn
	c    net.Conn // raw, or the TLS connection on top of it
	mode Mode
}

// Read and Write extend the idle deadline, so a silent peer is dropped.
func (c *conn) Read(p []byte) (int, error) {
	_ = c.raw.SetDeadline(time.Now().Add(c.s.cfg.Timeout))
	return c.c.Read(p)
}

func (c *conn) Write(p []byte) (int, error) {
	_ = c.raw.SetDeadline(time.Now().Add(c.s.cfg.Timeout))
	return c.c.Write(p)
}

// serveConn runs one connection to its end.
func (s *Server) serveConn(raw net.Conn) error {
	c := &conn{s: s, raw: raw, c: raw, mode: s.cfg.Mode()}
	if c.mode == ModeRefuse || c.mode == ModeTLS && s.tls == nil {
		return errors.New("refused: no NBD network mode allows it")
	}
	greeting := binary.BigEndian.AppendUint64(nil, nbd.Magic)
	greeting = binary.BigEndian.AppendUint64(greeting, nbd.OptMagic)
	greeting = binary.BigEndian.AppendUint16(greeting, nbd.FlagFixedNewstyle)
	if _, err := c.Write(greeting); err != nil {
		return err
	}
	var fb [4]byte
	if _, err := io.ReadFull(c, fb[:]); err != nil {
		return err
	}
	flags := binary.BigEndian.Uint32(fb[:])
	if flags&^nbd.ClientFixedNewstyle != 0 {
		return fmt.Errorf("client flags %#x: unknown bits", flags)
	}
	if c.mode == ModeTLS && flags&nbd.ClientFixedNewstyle == 0 {
		return errors.New("client without FIXED_NEWSTYLE in TLS mode")
	}
	exp, err := c.negotiate()
	if err != nil {
		return err
	}
	if exp.Done != nil {
		defer exp.Done()
	}
	reply := binary.BigEndian.AppendUint64(nil, uint64(exp.Size))
	reply = binary.BigEndian.AppendUint16(reply, nbd.TransHasFlags|nbd.TransReadOnly)
	if _, err := c.Write(append(reply, make([]byte, 124)...)); err != nil {
		return err
	}
	return c.transmit(exp)
}

// negotiate runs the option haggling until EXPORT_NAME opens an export.
func (c *conn) negotiate() (Export, error) {
	secure := c.mode == ModePlain // nothing left to secure
	for {
		opt, data, err := c.readOption()
		if err != nil {
			return Export{}, err
		}
		if !secure {
			switch opt {
			case nbd.OptStartTLS:
				if err := c.reply(opt, nbd.RepAck); err != nil {
					return Export{}, err
				}
				tc := tls.Server(c.raw, c.s.tls)
				if err := tc.HandshakeContext(c.s.ctx); err != nil {
					return Export{}, fmt.Errorf("TLS handshake: %w", err)
				}
				c.c, secure = tc, true
			case nbd.OptExportName, nbd.OptAbort:
				return Export{}, fmt.Errorf("%s before TLS: closed", nbd.OptionName(opt))
			default:
				if err := c.reply(opt, nbd.RepErrTLSReqd); err != nil {
					return Export{}, err
				}
			}
			continue
		}
		if exp, done, err := c.afterTLS(opt, data); done || err != nil {
			return exp, err
		}
	}
}

// afterTLS answers one option once the connection is secure (or needs no
// TLS); done reports that negotiation is over.
func (c *conn) afterTLS(opt uint32, data []byte) (Export, bool, error) {
	var rep uint32
	switch opt {
	case nbd.OptExportName:
		exp, err := c.s.cfg.Open(c.s.ctx, string(data))
		if err != nil {
			return Export{}, true, fmt.Errorf("open export: %w", err)
		}
		return exp, true, nil
	case nbd.OptAbort:
		_ = c.reply(opt, nbd.RepAck)
		return Export{}, true, errors.New("client aborted")
	case nbd.OptList:
		rep = nbd.RepErrPolicy
	case nbd.OptStartTLS:
		rep = nbd.RepErrInvalid
		if c.mode == ModePlain {
			rep = nbd.RepErrPolicy
		}
	default:
		rep = nbd.RepErrUnsup
	}
	return Export{}, false, c.reply(opt, rep)
}

// readOption reads one option request and its data.
func (c *conn) readOption() (uint32, []byte, error) {
	var h [16]byte
	if _, err := io.ReadFull(c, h[:]); err != nil {
		return 0, nil, err
	}
	if m := binary.BigEndian.Uint64(h[:]); m != nbd.OptMagic {
		return 0, nil, fmt.Errorf("option magic %#x", m)
	}
	opt, n := binary.BigEndian.Uint32(h[8:]), binary.BigEndian.Uint32(h[12:])
	if n > maxOption {
		return 0, nil, fmt.Errorf("%s: data of %d bytes, more than %d", nbd.OptionName(opt), n, maxOption)
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(c, data); err != nil {
		return 0, nil, err
	}
	return opt, data, nil
}

// reply sends an option reply without data.
func (c *conn) reply(opt, typ uint32) error {
	_, err := c.Write(nbd.AppendOptReply(nil, opt, typ, nil))
	return err
}
