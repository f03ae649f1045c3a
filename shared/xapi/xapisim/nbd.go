package xapisim

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"

	"xbr/shared/nbd/nbdserver"
)

// The network purposes that enable XAPI's NBD server (§2.1).
const (
	purposeNBD         = "nbd"
	purposeInsecureNBD = "insecure_nbd"
)

func (s *Server) nbdMethods(r registry) {
	r.add("network.add_purpose", 2, s.withObj("network", s.addPurpose), asyncMode)
	r.add("network.remove_purpose", 2, s.withObj("network", func(c *call, n *object) (any, error) {
		v, err := c.str(1)
		if err != nil {
			return nil, err
		}
		s.st.removeFromSet(n, "purpose", v)
		return "", nil
	}), asyncMode)
	r.add("VDI.get_nbd_info", 1, s.withObj("VDI", s.getNBDInfo))
}

// addPurpose implements network.add_purpose: nbd and insecure_nbd exclude
// each other pool-wide (xapi_network.ml assert_can_add_purpose).
func (s *Server) addPurpose(c *call, n *object) (any, error) {
	v, err := c.str(1)
	if err != nil {
		return nil, err
	}
	other := map[string]string{purposeNBD: purposeInsecureNBD, purposeInsecureNBD: purposeNBD}[v]
	if other == "" {
		return nil, fail("INVALID_VALUE", "purpose", v)
	}
	for _, net := range s.st.all("network") {
		for _, p := range net.refs("purpose") {
			if p == other {
				return nil, fail("NETWORK_INCOMPATIBLE_PURPOSES", v, other)
			}
		}
	}
	s.st.addToSet(n, "purpose", v)
	return "", nil
}

// nbdPurposes reports which NBD purposes some network has; st.mu is held.
func (s *Server) nbdPurposes() (secure, insecure bool) {
	for _, n := range s.st.all("network") {
		for _, p := range n.refs("purpose") {
			secure = secure || p == purposeNBD
			insecure = insecure || p == purposeInsecureNBD
		}
	}
	return secure, insecure
}

// nbdMode is xapi-nbd's per-connection choice: TLS when a network has
// purpose nbd, plain with only insecure_nbd, refused otherwise.
func (s *Server) nbdMode() nbdserver.Mode {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	switch secure, insecure := s.nbdPurposes(); {
	case secure && !insecure:
		return nbdserver.ModeTLS
	case insecure && !secure:
		return nbdserver.ModePlain
	}
	return nbdserver.ModeRefuse
}

// getNBDInfo implements VDI.get_nbd_info: one record per host that sees
// the VDI's SR, when a network has an NBD purpose (every simulated host
// has a PIF on the pool's network); [] otherwise, or when no NBD server
// runs (Handler used without Start).
func (s *Server) getNBDInfo(c *call, vdi *object) (any, error) {
	if err := refuseMetadata(vdi); err != nil {
		return nil, err
	}
	out := []any{}
	secure, insecure := s.nbdPurposes()
	port := s.nbdPort()
	if !secure && !insecure || port == 0 {
		return out, nil
	}
	name := "/" + vdi.str("uuid") + "?session_id=" + c.session.ref
	for _, h := range s.hosts {
		if !s.seesSR(h.ref, vdi.str("SR")) {
			continue
		}
		host, _ := s.st.get("host", h.ref)
		// XAPI sends the host's certificate whatever the purpose.
		cert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.cert.der}))
		out = append(out, map[string]any{"exportname": name, "address": "127.0.0.1", "port": int64(port),
			"cert": cert, "subject": host.str("hostname")})
	}
	return out, nil
}

// nbdPort is the NBD listener's port, 0 when none runs.
func (s *Server) nbdPort() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nbdLn == nil {
		return 0
	}
	return s.nbdLn.Addr().(*net.TCPAddr).Port
}

// NBDAddress returns the address of the simulator's NBD server ("" before
// Start or StartHosts).
func (s *Server) NBDAddress() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nbdLn == nil {
		return ""
	}
	return s.nbdLn.Addr().String()
}

// startNBD runs the pool's NBD server on 127.0.0.1 (any free port; a
// real host uses 10809 on each host). Start and StartHosts call it.
func (s *Server) startNBD() error {
	s.mu.Lock()
	running := s.nbd != nil
	s.mu.Unlock()
	if running {
		return nil
	}
	srv, err := nbdserver.New(nbdserver.Config{
		Mode: s.nbdMode, Open: s.openExport, OnRead: s.counter("nbd_read"), Logger: s.log,
		TLS: &tls.Config{GetCertificate: s.hostCertificate},
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("xapisim: NBD listen: %w", err)
	}
	s.mu.Lock()
	s.nbd, s.nbdLn = srv, ln
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil {
			s.log.Error("xapisim: NBD serve", "err", err)
		}
	}()
	return nil
}

// hostCertificate picks the certificate of the host the client names (its
// get_nbd_info subject), as each XAPI host serves its own.
func (s *Server) hostCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	for _, h := range s.hosts {
		if host, err := s.st.get("host", h.ref); err == nil && host.str("hostname") == hello.ServerName {
			return &h.cert.tls, nil
		}
	}
	return &s.hosts[0].cert.tls, nil
}

// openExport resolves "/<vdi-uuid>?session_id=<ref>" as xapi-nbd does:
// the session must be valid, the VDI found by uuid and not cbt_metadata.
func (s *Server) openExport(_ context.Context, name string) (nbdserver.Export, error) {
	u, err := url.Parse(name)
	if err != nil || !strings.HasPrefix(u.Path, "/") {
		return nbdserver.Export{}, errors.New("export name is not /<vdi-uuid>?session_id=<ref>")
	}
	if _, err := s.checkSession(u.Query().Get("session_id")); err != nil {
		return nbdserver.Export{}, errors.New("export name: session not valid")
	}
	s.st.mu.Lock()
	vdi, err := s.st.byUUID("VDI", strings.TrimPrefix(u.Path, "/"))
	if err == nil {
		err = refuseMetadata(vdi)
	}
	ref := ""
	if err == nil {
		ref = vdi.ref
	}
	s.st.mu.Unlock()
	if err != nil {
		return nbdserver.Export{}, err
	}
	k, ok := s.disks.get(ref)
	if !ok {
		return nbdserver.Export{}, errors.New("VDI " + strconv.Quote(u.Path) + " has no content")
	}
	var data io.ReaderAt = k.src
	if limit := s.CurrentFaults().NBDReadFailAfter; limit > 0 {
		data = &failingAfter{src: k.src, limit: limit}
	}
	return nbdserver.Export{Size: k.size, Data: data}, nil
}
