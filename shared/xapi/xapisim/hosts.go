package xapisim

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // XAPI's Certificate record carries a SHA-1 fingerprint too
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// simHost is one pool member: its host row, its local SR and the
// certificate its listener presents.
type simHost struct {
	ref, sr string
	cert    hostCert
}

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

// pbdRecord attaches sr to host.
func pbdRecord(host, sr string) map[string]any {
	return map[string]any{
		"uuid": uuid.NewString(), "host": host, "SR": sr, "device_config": smap{"device": "/dev/sda3"},
		"currently_attached": true, "other_config": smap{},
	}
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

// hostKey carries, in a request's context, the index of the host that
// received it.
type hostKey struct{}

// hostHandler serves as host i of the pool.
func (s *Server) hostHandler(i int) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		s.serveHTTP(w, r.WithContext(context.WithValue(r.Context(), hostKey{}, i)))
	}
}

// thisHost is the ref of the host a request reached (host 1 by default).
func (s *Server) thisHost(ctx context.Context) string {
	i, _ := ctx.Value(hostKey{}).(int)
	return s.hosts[i].ref
}

// master returns the pool master's ref and address; the caller holds st.mu.
func (s *Server) master() (ref, address string) {
	pool, _ := s.st.get("pool", s.pool)
	ref = pool.str("master")
	if h, err := s.st.get("host", ref); err == nil {
		address = h.str("address")
	}
	return ref, address
}

// slaveError is what a pool member answers to a login or a call with a user
// session: HOST_IS_SLAVE [master address] (xen-api ocaml/xapi/xapi_session.ml
// login, ocaml/xapi/session_check.ml Non_master_login_on_slave). It is nil
// on the master.
func (s *Server) slaveError(ctx context.Context) error {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	ref, addr := s.master()
	if ref == s.thisHost(ctx) {
		return nil
	}
	return fail("HOST_IS_SLAVE", addr)
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

// seesSR reports whether host has sr attached (a currently attached PBD), as
// xen-api ocaml/xapi/xapi_vm_helpers.ml which_specified_SRs_not_available_on_host
// decides; the caller holds st.mu.
func (s *Server) seesSR(host, sr string) bool {
	h, err := s.st.get("host", host)
	if err != nil {
		return false
	}
	for _, ref := range h.refs("PBDs") {
		if pbd, err := s.st.get("PBD", ref); err == nil && pbd.str("SR") == sr && pbd.flag("currently_attached") {
			return true
		}
	}
	return false
}

// hostFor chooses where a transfer over srs runs: "" when here sees them
// all, else the first host (the master first) that does, or
// NO_HOSTS_AVAILABLE (xen-api ocaml/xapi/importexport.ml
// check_sr_availability and find_host_for_sr, xapi_vm_helpers.ml
// choose_host; XAPI picks at random among several, the simulator the first).
// The caller holds st.mu.
func (s *Server) hostFor(here string, srs []string) (string, error) {
	sees := func(h string) bool {
		for _, sr := range srs {
			if !s.seesSR(h, sr) {
				return false
			}
		}
		return true
	}
	if sees(here) {
		return "", nil
	}
	master, _ := s.master()
	order := []string{master}
	for _, h := range s.hosts {
		order = append(order, h.ref)
	}
	for _, h := range order {
		if h != here && sees(h) {
			return h, nil
		}
	}
	return "", fail("NO_HOSTS_AVAILABLE")
}

// vmSRs lists the SRs of a VM's disks; the caller holds st.mu.
func (s *Server) vmSRs(vm *object) []string {
	var out []string
	for _, ref := range vm.refs("VBDs") {
		vbd, err := s.st.get("VBD", ref)
		if err != nil || vbd.flag("empty") {
			continue
		}
		if vdi, err := s.st.get("VDI", vbd.str("VDI")); err == nil {
			out = append(out, vdi.str("SR"))
		}
	}
	return out
}

// residentHost is where a VM runs: a host that sees its disks, the master
// when it does; the caller holds st.mu.
func (s *Server) residentHost(vm *object) string {
	master, _ := s.master()
	if h, err := s.hostFor(master, s.vmSRs(vm)); err == nil && h != "" {
		return h
	}
	return master
}

// redirect answers 302 to the same path and query on host, with the head
// XAPI writes (xen-api ocaml/libs/http-lib/http.ml http_302_redirect: no
// body, Connection: close). XAPI's Location is always https://<address>;
// a simulator served over plain HTTP keeps http.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, host string) {
	s.st.mu.Lock()
	h, err := s.st.get("host", host)
	addr := ""
	if err == nil {
		addr = h.str("address")
	}
	s.st.mu.Unlock()
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	loc := scheme + "://" + addr + r.URL.Path
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	s.log.Debug("xapisim: redirect", "path", r.URL.Path, "to", addr)
	x, err := s.hijack(w, "HTTP/1.1 302 Found\r\nConnection: close\r\nCache-Control: no-cache, no-store\r\nLocation: "+loc+"\r\n\r\n")
	if err == nil {
		_ = x.conn.Close()
	}
}

// designateMaster makes host the pool master (pool.designate_new_master);
// the old master then answers HOST_IS_SLAVE.
func (s *Server) designateMaster(c *call) (any, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	h, err := c.obj(0, "host")
	if err != nil {
		return nil, err
	}
	pool, _ := s.st.get("pool", s.pool)
	s.st.set(pool, "master", h.ref)
	return "", nil
}

// SetMaster makes host i (0-based) the pool master, as
// pool.designate_new_master does.
func (s *Server) SetMaster(i int) error {
	if i < 0 || i >= len(s.hosts) {
		return fmt.Errorf("xapisim: host %d: the pool has %d hosts", i, len(s.hosts))
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	pool, _ := s.st.get("pool", s.pool)
	s.st.set(pool, "master", s.hosts[i].ref)
	return nil
}

// Hosts returns the refs of the pool's hosts in order (host 1 first) and
// LocalSR the ref of host i's local SR.
func (s *Server) Hosts() []string {
	out := make([]string, len(s.hosts))
	for i, h := range s.hosts {
		out[i] = h.ref
	}
	return out
}

// LocalSR returns the ref of host i's local SR.
func (s *Server) LocalSR(i int) string { return s.hosts[i].sr }

// Fingerprint returns the SHA-256 of host i's certificate (DER) in hex, as
// a tls_fingerprint pin takes it.
func (s *Server) Fingerprint(i int) string {
	sum := sha256.Sum256(s.hosts[i].cert.der)
	return hex.EncodeToString(sum[:])
}

// versionAtLeast compares a dotted xapi version ("24.19", "1.249.26") with
// major.minor.
func versionAtLeast(v string, major, minor int) bool {
	var got [2]int
	for i, p := range strings.SplitN(v, ".", 3) {
		if i < 2 {
			got[i], _ = strconv.Atoi(p)
		}
	}
	return got[0] > major || got[0] == major && got[1] >= minor
}

// transferHost tells where a transfer over the SRs that srs finds runs: ""
// here, or the host to redirect to. srs runs under st.mu and reports false
// when the object is unknown (the handler then fails as it would anyway).
func (s *Server) transferHost(r *http.Request, srs func() ([]string, bool)) (string, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	list, ok := srs()
	if !ok {
		return "", nil
	}
	return s.hostFor(s.thisHost(r.Context()), list)
}

// closeSilently ends a request with no response at all, as XAPI's export
// handler does after failing the task when no host sees the VM's storage.
func (s *Server) closeSilently(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
	}
}

// Headers of XAPI's master thumbprint on HOST_IS_SLAVE (xen-api
// ocaml/xapi/xapi_globs.ml cert_thumbprint_header_*, api_server.ml
// create_thumbprint_header; xapi 24.1.0 and later).
const (
	thumbprintRequest  = "x-xenapi-request-host-certificate-thumbprint"
	thumbprintResponse = "x-xenapi-response-host-certificate-thumbprint"
)

// thumbprintHeader adds the master's SHA-256 certificate fingerprint to a
// HOST_IS_SLAVE reply when the request asked for it with "sha-256:master".
func (s *Server) thumbprintHeader(w http.ResponseWriter, r *http.Request, err error) {
	var f *Failure
	if err == nil || !errors.As(err, &f) || f.Code != "HOST_IS_SLAVE" || !versionAtLeast(s.opts.XapiVersion, 24, 1) {
		return
	}
	if strings.EqualFold(r.Header.Get(thumbprintRequest), "sha-256:master") {
		w.Header().Set(thumbprintResponse, s.masterThumbprint())
	}
}

// StartHosts serves every host of the pool over TLS with its own
// certificate, each on its own port of 127.0.0.1 (port+i, or any free port
// when port is 0), and records each host's address as "127.0.0.1:<port>":
// XAPI's host.address is a bare IP, as every host listens on 443, which
// loopback hosts cannot share. It returns the hosts' URLs, host 1 first.
func (s *Server) StartHosts(port int) ([]string, error) {
	var urls []string
	for i, h := range s.hosts {
		p := 0
		if port != 0 {
			p = port + i
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			return nil, fmt.Errorf("xapisim: listen for host %d: %w", i+1, err)
		}
		addr := ln.Addr().String()
		s.st.mu.Lock()
		if o, err := s.st.get("host", h.ref); err == nil {
			s.st.set(o, "address", addr)
		}
		s.st.mu.Unlock()
		srv := &http.Server{Handler: http.HandlerFunc(s.hostHandler(i)), ReadHeaderTimeout: 30 * time.Second,
			TLSConfig: &tls.Config{Certificates: []tls.Certificate{h.cert.tls}, MinVersion: tls.VersionTLS12}}
		s.mu.Lock()
		s.listeners = append(s.listeners, srv)
		s.mu.Unlock()
		go func() {
			if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("xapisim: serve", "host", i+1, "err", err)
			}
		}()
		urls = append(urls, "https://"+addr)
	}
	return urls, nil
}

// Certificate returns host i's server certificate.
func (s *Server) Certificate(i int) *x509.Certificate {
	c, _ := x509.ParseCertificate(s.hosts[i].cert.der)
	return c
}

// SetHostAddress changes host i's address record (a fault: the pool then
// names a listener that is not that host).
func (s *Server) SetHostAddress(i int, address string) error {
	if i < 0 || i >= len(s.hosts) {
		return fmt.Errorf("xapisim: host %d: the pool has %d hosts", i, len(s.hosts))
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	h, err := s.st.get("host", s.hosts[i].ref)
	if err != nil {
		return err
	}
	s.st.set(h, "address", address)
	return nil
}
