package xapisim

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

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
	if err := s.startNBD(); err != nil {
		return nil, err
	}
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
		srv := s.serveHost(i, ln)
		s.mu.Lock()
		s.listeners = append(s.listeners, srv)
		s.mu.Unlock()
		urls = append(urls, "https://"+addr)
	}
	return urls, nil
}

// serveHost serves host i over TLS on ln.
func (s *Server) serveHost(i int, ln net.Listener) *http.Server {
	srv := &http.Server{Addr: ln.Addr().String(), Handler: http.HandlerFunc(s.hostHandler(i)), ReadHeaderTimeout: 30 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{s.hosts[i].cert.tls}, MinVersion: tls.VersionTLS12}}
	go func() {
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("xapisim: serve", "host", i+1, "err", err)
		}
	}()
	return srv
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

// StopHost takes host i (0-based) off the network, as a host that crashed
// or powered off: its listener and open connections close, and new
// connections to its address are refused. The pool's records do not
// change; with SetMaster it plays an HA failover.
func (s *Server) StopHost(i int) error {
	s.mu.Lock()
	if i < 0 || i >= len(s.listeners) {
		n := len(s.listeners)
		s.mu.Unlock()
		return fmt.Errorf("xapisim: host %d: %d hosts are listening (StartHosts)", i, n)
	}
	srv := s.listeners[i]
	s.mu.Unlock()
	return srv.Close()
}

// StartHost puts host i (0-based), taken off the network by StopHost, back
// on it at the address it had, as a host that rebooted.
func (s *Server) StartHost(i int) error {
	s.mu.Lock()
	if i < 0 || i >= len(s.listeners) {
		n := len(s.listeners)
		s.mu.Unlock()
		return fmt.Errorf("xapisim: host %d: %d hosts are listening (StartHosts)", i, n)
	}
	addr := s.listeners[i].Addr
	s.mu.Unlock()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("xapisim: listen for host %d again: %w", i+1, err)
	}
	srv := s.serveHost(i, ln)
	s.mu.Lock()
	s.listeners[i] = srv
	s.mu.Unlock()
	return nil
}
