package nbdserver_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"xbr/shared/nbd"
	"xbr/shared/nbd/nbdserver"
)

// raw speaks the protocol byte by byte, as a client this package never
// trusts would.
type raw struct {
	t    *testing.T
	c    net.Conn
	root *x509.CertPool
}

func (r *raw) write(b []byte) {
	r.t.Helper()
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

func (r *raw) read(n int) []byte {
	r.t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(r.c, b); err != nil {
		r.t.Fatalf("read %d bytes: %v", n, err)
	}
	return b
}

// option sends opt and returns the reply type.
func (r *raw) option(opt uint32, data []byte) uint32 {
	r.t.Helper()
	b := binary.BigEndian.AppendUint64(nil, nbd.OptMagic)
	b = binary.BigEndian.AppendUint32(b, opt)
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	r.write(append(b, data...))
	h := r.read(20)
	if binary.BigEndian.Uint64(h) != nbd.OptReplyMagic || binary.BigEndian.Uint32(h[8:]) != opt {
		r.t.Fatalf("reply header %x to option %d", h, opt)
	}
	r.read(int(binary.BigEndian.Uint32(h[16:])))
	return binary.BigEndian.Uint32(h[12:])
}

// closed reports whether the server closed the connection.
func (r *raw) closed() bool {
	_ = r.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := r.c.Read(make([]byte, 1))
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

func (r *raw) startTLS() {
	r.t.Helper()
	if typ := r.option(nbd.OptStartTLS, nil); typ != nbd.RepAck {
		r.t.Fatalf("STARTTLS: %s", nbd.ReplyName(typ))
	}
	tc := tls.Client(r.c, &tls.Config{RootCAs: r.root, ServerName: "host"})
	if err := tc.Handshake(); err != nil {
		r.t.Fatal(err)
	}
	if v := tc.ConnectionState().Version; v != tls.VersionTLS12 {
		r.t.Fatalf("TLS version %#x, want TLS 1.2 as xapi-nbd", v)
	}
	r.c = tc
}

// start runs a server in mode and connects a raw client past the flags.
func start(t *testing.T, mode nbdserver.Mode, flags uint32) *raw {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "host"}, DNSNames: []string{"host"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	root := x509.NewCertPool()
	root.AddCert(cert)
	srv, err := nbdserver.New(nbdserver.Config{
		Mode: func() nbdserver.Mode { return mode },
		TLS:  &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		Open: func(_ context.Context, name string) (nbdserver.Export, error) {
			if name != "disk" {
				return nbdserver.Export{}, errors.New("no such export")
			}
			return nbdserver.Export{Size: 1 << 20, Data: bytes.NewReader(bytes.Repeat([]byte{7}, 1<<20))}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	r := &raw{t: t, c: c, root: root}
	g := r.read(18)
	if binary.BigEndian.Uint64(g) != nbd.Magic || binary.BigEndian.Uint64(g[8:]) != nbd.OptMagic ||
		binary.BigEndian.Uint16(g[16:]) != nbd.FlagFixedNewstyle {
		t.Fatalf("greeting %x: want NBDMAGIC IHAVEOPT and FIXED_NEWSTYLE only", g)
	}
	r.write(binary.BigEndian.AppendUint32(nil, flags))
	return r
}

// TestBeforeTLS: in TLS mode, options other than STARTTLS get
// ERR_TLS_REQD and EXPORT_NAME closes the connection.
func TestBeforeTLS(t *testing.T) {
	r := start(t, nbdserver.ModeTLS, nbd.ClientFixedNewstyle)
	for _, opt := range []uint32{nbd.OptGo, nbd.OptList, nbd.OptInfo, nbd.OptStructuredReply} {
		if typ := r.option(opt, nil); typ != nbd.RepErrTLSReqd {
			t.Errorf("%s before TLS: %s, want NBD_REP_ERR_TLS_REQD", nbd.OptionName(opt), nbd.ReplyName(typ))
		}
	}
	b := binary.BigEndian.AppendUint64(nil, nbd.OptMagic)
	b = binary.BigEndian.AppendUint32(b, nbd.OptExportName)
	r.write(append(binary.BigEndian.AppendUint32(b, 4), "disk"...))
	if !r.closed() {
		t.Fatal("EXPORT_NAME before TLS did not close the connection")
	}
}

// TestFlags: NO_ZEROES (not offered) or a client without FIXED_NEWSTYLE
// in TLS mode is dropped.
func TestFlags(t *testing.T) {
	for _, flags := range []uint32{nbd.ClientFixedNewstyle | nbd.ClientNoZeroes, 0} {
		if r := start(t, nbdserver.ModeTLS, flags); !r.closed() {
			t.Errorf("client flags %#x: not dropped", flags)
		}
	}
}

// TestAfterTLS: GO, INFO, STRUCTURED_REPLY and SET_META_CONTEXT are
// unsupported, LIST is refused by policy, STARTTLS again is invalid;
// EXPORT_NAME answers 134 bytes; READ, WRITE and other commands get what
// xapi-nbd answers.
func TestAfterTLS(t *testing.T) {
	r := start(t, nbdserver.ModeTLS, nbd.ClientFixedNewstyle)
	r.startTLS()
	want := map[uint32]uint32{nbd.OptGo: nbd.RepErrUnsup, nbd.OptInfo: nbd.RepErrUnsup,
		nbd.OptStructuredReply: nbd.RepErrUnsup, nbd.OptSetMetaContext: nbd.RepErrUnsup,
		nbd.OptList: nbd.RepErrPolicy, nbd.OptStartTLS: nbd.RepErrInvalid}
	for opt, rep := range want {
		if typ := r.option(opt, nil); typ != rep {
			t.Errorf("%s after TLS: %s, want %s", nbd.OptionName(opt), nbd.ReplyName(typ), nbd.ReplyName(rep))
		}
	}
	b := binary.BigEndian.AppendUint64(nil, nbd.OptMagic)
	b = binary.BigEndian.AppendUint32(b, nbd.OptExportName)
	r.write(append(binary.BigEndian.AppendUint32(b, 4), "disk"...))
	rep := r.read(134)
	if binary.BigEndian.Uint64(rep) != 1<<20 || binary.BigEndian.Uint16(rep[8:]) != nbd.TransHasFlags|nbd.TransReadOnly ||
		!bytes.Equal(rep[10:], make([]byte, 124)) {
		t.Fatalf("export reply %x", rep[:10])
	}
	transmission(t, r)
}

// transmission checks the commands' answers on an open export.
func transmission(t *testing.T, r *raw) {
	cases := []struct {
		req   nbd.Request
		data  int // payload sent after the request
		errno uint32
	}{
		{nbd.Request{Type: nbd.CmdRead, Cookie: 1, Offset: 512, Length: 1024}, 0, 0},
		{nbd.Request{Type: nbd.CmdRead, Cookie: 2, Offset: 1, Length: 512}, 0, nbd.EINVAL},
		{nbd.Request{Type: nbd.CmdRead, Cookie: 3, Offset: 0, Length: 100}, 0, nbd.EINVAL},
		{nbd.Request{Type: nbd.CmdRead, Cookie: 4, Offset: 1 << 20, Length: 512}, 0, nbd.EINVAL},
		{nbd.Request{Type: nbd.CmdWrite, Cookie: 5, Offset: 0, Length: 512}, 512, nbd.EPERM},
		{nbd.Request{Type: nbd.CmdFlush, Cookie: 6}, 0, nbd.EINVAL},
		{nbd.Request{Type: nbd.CmdBlockStatus, Cookie: 7, Length: 512}, 0, nbd.EINVAL},
	}
	for _, c := range cases {
		r.write(append(nbd.AppendRequest(nil, c.req), make([]byte, c.data)...))
		h := r.read(16)
		if binary.BigEndian.Uint32(h) != nbd.SimpleMagic || binary.BigEndian.Uint64(h[8:]) != c.req.Cookie ||
			binary.BigEndian.Uint32(h[4:]) != c.errno {
			t.Fatalf("%s %+v: reply %x, want errno %d", nbd.CommandName(c.req.Type), c.req, h, c.errno)
		}
		if c.errno == 0 && !bytes.Equal(r.read(int(c.req.Length)), bytes.Repeat([]byte{7}, int(c.req.Length))) {
			t.Fatal("read data differ")
		}
	}
	r.write(nbd.AppendRequest(nil, nbd.Request{Type: nbd.CmdDisc, Cookie: 8}))
	if !r.closed() {
		t.Fatal("DISC did not close the connection")
	}
}

// TestPlain: without TLS, STARTTLS is refused by policy, ABORT is
// acknowledged then closed, and an unknown export closes the connection.
func TestPlain(t *testing.T) {
	r := start(t, nbdserver.ModePlain, nbd.ClientFixedNewstyle)
	if typ := r.option(nbd.OptStartTLS, nil); typ != nbd.RepErrPolicy {
		t.Fatalf("STARTTLS without TLS: %s", nbd.ReplyName(typ))
	}
	if typ := r.option(nbd.OptAbort, nil); typ != nbd.RepAck || !r.closed() {
		t.Fatalf("ABORT: %s, want an ACK and a close", nbd.ReplyName(typ))
	}
	r = start(t, nbdserver.ModePlain, nbd.ClientFixedNewstyle)
	b := binary.BigEndian.AppendUint64(nil, nbd.OptMagic)
	b = binary.BigEndian.AppendUint32(b, nbd.OptExportName)
	r.write(append(binary.BigEndian.AppendUint32(b, 3), "etc"...))
	if !r.closed() {
		t.Fatal("an unknown export did not close the connection")
	}
}
