package tests

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// front is a pool's front door on 127.0.0.1 for fault tests: it forwards
// every connection to the simulator, optionally over TLS, and can be taken
// down (the pool is unreachable: connections are refused) or made to show
// another certificate (a TLS pin mismatch). Each change closes the open
// connections, so clients see it at once.
type front struct {
	t       *testing.T
	addr    string
	backend string
	certs   [2]tls.Certificate // the pinned one, another one
	tls     bool

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	wrong bool
}

func startFront(t *testing.T, backendURL string, useTLS bool) *front {
	t.Helper()
	f := &front{t: t, backend: strings.TrimPrefix(backendURL, "http://"), tls: useTLS, conns: map[net.Conn]bool{}}
	f.certs = [2]tls.Certificate{selfSigned(t), selfSigned(t)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr, f.ln = ln.Addr().String(), ln
	go f.serve(ln)
	t.Cleanup(func() { f.setDown(true) })
	return f
}

func (f *front) url() string {
	if f.tls {
		return "https://" + f.addr
	}
	return "http://" + f.addr
}

// fingerprint is the SHA-256 of the pinned certificate.
func (f *front) fingerprint() string {
	sum := sha256.Sum256(f.certs[0].Certificate[0])
	return hex.EncodeToString(sum[:])
}

// setDown takes the front down (connections refused) or up again on the
// same address.
func (f *front) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closeConns()
	if down && f.ln != nil {
		_ = f.ln.Close()
		f.ln = nil
	}
	if !down && f.ln == nil {
		ln, err := net.Listen("tcp", f.addr)
		if err != nil {
			f.t.Errorf("front up again on %s: %v", f.addr, err)
			return
		}
		f.ln = ln
		go f.serve(ln)
	}
}

// setWrongCert makes the front show a certificate that is not the pinned one.
func (f *front) setWrongCert(wrong bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.wrong = wrong
	f.closeConns()
}

func (f *front) closeConns() {
	for c := range f.conns {
		_ = c.Close()
	}
	clear(f.conns)
}

func (f *front) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go f.forward(c)
	}
}

func (f *front) forward(c net.Conn) {
	f.mu.Lock()
	if f.tls {
		cert := f.certs[0]
		if f.wrong {
			cert = f.certs[1]
		}
		c = tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	f.conns[c] = true
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.conns, c)
		f.mu.Unlock()
		_ = c.Close()
	}()
	b, err := net.DialTimeout("tcp", f.backend, 10*time.Second)
	if err != nil {
		return
	}
	defer b.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(b, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, b); done <- struct{}{} }()
	<-done
}

// selfSigned makes a certificate for 127.0.0.1.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "xapisim"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
