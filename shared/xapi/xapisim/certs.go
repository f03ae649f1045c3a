package xapisim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // XAPI's Certificate record carries a SHA-1 fingerprint too
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"net"
	"strings"
	"time"

	"github.com/google/uuid"
)

// hostCert is a host's self-signed TLS certificate, as an XCP-ng host
// generates at install (/etc/xensource/xapi-ssl.pem).
type hostCert struct {
	tls                 tls.Certificate
	der                 []byte
	notBefore, notAfter time.Time
}

// newHostCert makes a self-signed ECDSA certificate for a host served on
// 127.0.0.1.
func newHostCert(name string, now time.Time) (hostCert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return hostCert{}, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return hostCert{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{name}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return hostCert{}, err
	}
	return hostCert{tls: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key},
		der: der, notBefore: tmpl.NotBefore, notAfter: tmpl.NotAfter}, nil
}

// fingerprint prints a digest as XAPI's Certificate records do: upper-case
// hex pairs joined by colons (xen-api ocaml/xapi/certificates.ml, pp_hash).
func fingerprint(sum []byte) string {
	h := strings.ToUpper(hex.EncodeToString(sum))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// certificateRecord is a host's server certificate as the Certificate class
// publishes it (xen-api ocaml/idl/datamodel_certificate.ml): type "host",
// the host, validity, and SHA-256 / SHA-1 fingerprints.
func certificateRecord(host string, c hostCert) map[string]any {
	s256 := sha256.Sum256(c.der)
	s1 := sha1.Sum(c.der) //nolint:gosec // published as XAPI publishes it, not used to trust
	return map[string]any{
		"uuid": uuid.NewString(), "name": "", "type": "host", "host": host,
		"not_before": c.notBefore.UTC(), "not_after": c.notAfter.UTC(),
		"fingerprint": fingerprint(s256[:]), "fingerprint_sha256": fingerprint(s256[:]),
		"fingerprint_sha1": fingerprint(s1[:]), "purpose": set(),
	}
}

// masterThumbprint is the SHA-256 fingerprint of the master's certificate.
func (s *Server) masterThumbprint() string {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	ref, _ := s.master()
	for _, h := range s.hosts {
		if h.ref == ref {
			sum := sha256.Sum256(h.cert.der)
			return fingerprint(sum[:])
		}
	}
	return ""
}

// Fingerprint returns the SHA-256 of host i's certificate (DER) in hex, as
// a tls_fingerprint pin takes it.
func (s *Server) Fingerprint(i int) string {
	sum := sha256.Sum256(s.hosts[i].cert.der)
	return hex.EncodeToString(sum[:])
}

// Certificate returns host i's server certificate.
func (s *Server) Certificate(i int) *x509.Certificate {
	c, _ := x509.ParseCertificate(s.hosts[i].cert.der)
	return c
}
