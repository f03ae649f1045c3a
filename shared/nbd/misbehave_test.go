package nbd_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"xbr/shared/nbd"
)

// badServer runs a plain-text server that negotiates properly, then
// answers the first request with reply; the test closes it.
func badServer(t *testing.T, reply []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		g := binary.BigEndian.AppendUint64(nil, nbd.Magic)
		g = binary.BigEndian.AppendUint64(g, nbd.OptMagic)
		_, _ = c.Write(binary.BigEndian.AppendUint16(g, nbd.FlagFixedNewstyle))
		h := make([]byte, 4+16)
		if _, err := io.ReadFull(c, h); err != nil {
			return
		}
		if _, err := io.ReadFull(c, make([]byte, binary.BigEndian.Uint32(h[16:]))); err != nil {
			return
		}
		r := binary.BigEndian.AppendUint64(nil, 1<<20)
		_, _ = c.Write(append(binary.BigEndian.AppendUint16(r, nbd.TransHasFlags), make([]byte, 124)...))
		if _, err := io.ReadFull(c, make([]byte, 28)); err == nil {
			_, _ = c.Write(reply)
		}
		_, _ = io.Copy(io.Discard, c)
	}()
	return ln.Addr().String()
}

// TestBrokenReplies: a reply for another cookie, a structured reply never
// negotiated, or a reply cut short closes the connection with an error
// naming the read; later calls get ErrClosed.
func TestBrokenReplies(t *testing.T) {
	for name, reply := range map[string][]byte{
		"other cookie": nbd.AppendSimpleReply(nil, 0, 99),
		"structured":   binary.BigEndian.AppendUint32(make([]byte, 0, 16), 0x668e33ef),
		"short data":   append(nbd.AppendSimpleReply(nil, 0, 1), make([]byte, 100)...),
	} {
		t.Run(name, func(t *testing.T) {
			addr := badServer(t, append(reply, make([]byte, 16-min(len(reply), 16))...))
			c, err := nbd.Dial(context.Background(), nbd.Config{Address: addr, ExportName: "x", Insecure: true, Timeout: 300 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Export().ReadOnly() {
				t.Fatal("flags without READ_ONLY read as read-only")
			}
			err = c.Read(context.Background(), 0, make([]byte, 512))
			if err == nil || !strings.Contains(err.Error(), "NBD_CMD_READ offset 0 length 512") {
				t.Fatalf("read: %v", err)
			}
			if err := c.Read(context.Background(), 0, make([]byte, 512)); !errors.Is(err, nbd.ErrClosed) {
				t.Fatalf("second read: %v, want ErrClosed", err)
			}
		})
	}
}
