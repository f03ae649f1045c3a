package nbd_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"

	"xbr/shared/nbd"
	"xbr/shared/nbd/nbdserver"
)

// pattern is an export whose byte at offset o is a function of o, so any
// size costs no memory.
type pattern struct{ size int64 }

func (p pattern) ReadAt(b []byte, off int64) (int, error) {
	for i := range b {
		b[i] = byteAt(off + int64(i))
	}
	return len(b), nil
}

func byteAt(o int64) byte { return byte(o*7 + o>>9 + o>>17) }

// selfSigned makes a host certificate for name, as an XCP-ng host has.
func selfSigned(t *testing.T, name string) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{name}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// fixture is a running server with one export.
type fixture struct {
	srv      *nbdserver.Server
	addr     string
	certPEM  string
	name     string
	ended    chan struct{} // receives when an export's connection ends
	exported int64
}

const exportName = "/4b1c7a5e-0000-4000-8000-000000000001?session_id=OpaqueRef:secret-session"

// serve starts a server on 127.0.0.1 exporting data under exportName; the
// test stops it.
func serve(t *testing.T, data nbdserver.Export, mut func(*nbdserver.Config)) *fixture {
	t.Helper()
	f := &fixture{name: "host1.example", ended: make(chan struct{}, 16)}
	cert, certPEM := selfSigned(t, f.name)
	f.certPEM = certPEM
	cfg := nbdserver.Config{
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}},
		Open: func(_ context.Context, name string) (nbdserver.Export, error) {
			if name != exportName {
				return nbdserver.Export{}, net.ErrClosed
			}
			e := data
			e.Done = func() { f.ended <- struct{}{} }
			return e, nil
		},
	}
	if mut != nil {
		mut(&cfg)
	}
	srv, err := nbdserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	f.srv, f.addr = srv, ln.Addr().String()
	return f
}

// config is the client configuration get_nbd_info would give.
func (f *fixture) config() nbd.Config {
	return nbd.Config{Address: f.addr, ExportName: exportName, CertPEM: f.certPEM, ServerName: f.name,
		Timeout: 5 * time.Second}
}

// dial connects; the test closes the client.
func dial(t *testing.T, cfg nbd.Config) *nbd.Client {
	t.Helper()
	c, err := nbd.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
