package nbdserver

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"xbr/shared/nbd"
)

// clientSession is a valid plain-text client side: flags, EXPORT_NAME,
// one READ, DISC.
func clientSession() []byte {
	b := binary.BigEndian.AppendUint32(nil, nbd.ClientFixedNewstyle)
	b = binary.BigEndian.AppendUint64(b, nbd.OptMagic)
	b = binary.BigEndian.AppendUint32(b, nbd.OptExportName)
	b = binary.BigEndian.AppendUint32(b, 4)
	b = append(b, "disk"...)
	b = nbd.AppendRequest(b, nbd.Request{Type: nbd.CmdRead, Cookie: 1, Length: 512})
	return nbd.AppendRequest(b, nbd.Request{Type: nbd.CmdDisc, Cookie: 2})
}

// scripted is a connection whose peer sends a script, then EOF, and
// reads whatever it is sent.
type scripted struct {
	net.Conn // nil: other methods are not used
	r        *bytes.Reader
}

func (c *scripted) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *scripted) Write(p []byte) (int, error) { return len(p), nil }
func (c *scripted) SetDeadline(time.Time) error { return nil }
func (c *scripted) Close() error                { return nil }
func (c *scripted) RemoteAddr() net.Addr        { return &net.TCPAddr{} }

// FuzzServerConn feeds arbitrary client bytes to a plain-text connection:
// the server answers or hangs up and never panics; a session too short
// for the client flags is an error.
func FuzzServerConn(f *testing.F) {
	f.Add(clientSession())
	f.Add(clientSession()[:4])
	f.Add(append(binary.BigEndian.AppendUint32(nil, 1), nbd.AppendRequest(nil, nbd.Request{Type: 9})...))
	big := binary.BigEndian.AppendUint32(nil, nbd.ClientFixedNewstyle)
	big = binary.BigEndian.AppendUint64(big, nbd.OptMagic)
	big = binary.BigEndian.AppendUint32(big, nbd.OptGo)
	f.Add(binary.BigEndian.AppendUint32(big, 1<<31))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := New(Config{
			Mode:    func() Mode { return ModePlain },
			Timeout: time.Second,
			Open: func(_ context.Context, name string) (Export, error) {
				return Export{Size: 1 << 20, Data: bytes.NewReader(make([]byte, 1<<20))}, nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.serveConn(&scripted{r: bytes.NewReader(data)}); err == nil && len(data) < 4 {
			t.Fatalf("a session of %d bytes ended cleanly", len(data))
		}
	})
}
