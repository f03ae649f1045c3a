package xapisim_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"net"
	"strconv"
	"testing"

	"xbr/shared/nbd"
	"xbr/shared/xapi/xapisim"
	"xbr/shared/xapi/xmlrpc"
)

// nbdConfig turns a get_nbd_info record into a client configuration.
func nbdConfig(t *testing.T, rec any) nbd.Config {
	t.Helper()
	m, ok := xmlrpc.AsMap(rec)
	if !ok {
		t.Fatalf("record %v", rec)
	}
	port, _ := xmlrpc.AsInt(m["port"])
	cert := m["cert"].(string)
	return nbd.Config{Address: net.JoinHostPort(m["address"].(string), strconv.FormatInt(port, 10)),
		ExportName: m["exportname"].(string), CertPEM: cert, ServerName: m["subject"].(string), Insecure: cert == ""}
}

// TestNBDPerHost: in a pool of two hosts, get_nbd_info names the host that
// sees the VDI's SR with its own certificate, which the NBD server
// presents; the export serves the VDI's bytes, and stops with the session.
func TestNBDPerHost(t *testing.T) {
	s, err := xapisim.New(xapisim.Options{Hosts: 2, VMs: 2, DiskSize: 1 << 20, NBD: "nbd", DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	urls, err := s.StartHosts(0)
	if err != nil {
		t.Fatal(err)
	}
	hc := poolClient(s, 2)
	user, pass := s.Credentials()
	sess, _, _ := poolCall(t, hc, urls[0], nil, "session.login_with_password", user, pass)
	vm := vmByName(t, s, "vm-02") // on host 2's local SR
	v, desc, _ := poolCall(t, hc, urls[0], nil, "VDI.get_nbd_info", sess, vm.VDIs[0])
	recs, _ := v.([]any)
	if desc != nil || len(recs) != 1 {
		t.Fatalf("get_nbd_info: %v %v", v, desc)
	}
	cfg := nbdConfig(t, recs[0])
	block, _ := pem.Decode([]byte(cfg.CertPEM))
	if block == nil || !bytes.Equal(block.Bytes, s.Certificate(1).Raw) || cfg.ServerName != "xapisim-host2" {
		t.Fatalf("record names %q with another certificate than host 2's", cfg.ServerName)
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatal(err)
	}
	c, err := nbd.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	if err := c.Read(context.Background(), 0, buf); err != nil || !bytes.Equal(buf, vdiBytes(t, s, vm.VDIs[0])) {
		t.Fatalf("NBD read: %v (or bytes differ)", err)
	}
	_ = c.Close()
	if got := s.Stats().Bytes["nbd_read"]; got != 1<<20 {
		t.Fatalf("nbd_read %d, want %d", got, 1<<20)
	}
	poolCall(t, hc, urls[0], nil, "session.logout", sess)
	if _, err := nbd.Dial(context.Background(), cfg); err == nil {
		t.Fatal("an export name with a logged-out session was served")
	}
}

// TestNBDInsecureAndOff: insecure_nbd serves without TLS and no
// certificate; with no NBD purpose left, get_nbd_info is empty and the
// server refuses connections.
func TestNBDInsecureAndOff(t *testing.T) {
	s, url := newSim(t, xapisim.Options{NBD: "insecure_nbd"})
	sess := login(t, s, url)
	vm := vmByName(t, s, "vm-02")
	recs := must(t, url, "VDI.get_nbd_info", sess, vm.VDIs[0]).([]any)
	if len(recs) != 1 {
		t.Fatalf("records %v", recs)
	}
	cfg := nbdConfig(t, recs[0])
	if cfg.CertPEM == "" {
		t.Fatal("an insecure_nbd record has no certificate; XAPI sends the host's on any NBD network")
	}
	cfg.CertPEM, cfg.Insecure = "", true // the pool's purpose says plain text, not the record
	c, err := nbd.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Close()
	nets := must(t, url, "network.get_all", sess).([]any)
	mustFail(t, url, "NETWORK_INCOMPATIBLE_PURPOSES", "network.add_purpose", sess, nets[0], "nbd")
	must(t, url, "network.remove_purpose", sess, nets[0], "insecure_nbd")
	if recs := must(t, url, "VDI.get_nbd_info", sess, vm.VDIs[0]).([]any); len(recs) != 0 {
		t.Fatalf("records without an NBD network: %v", recs)
	}
	if _, err := nbd.Dial(context.Background(), cfg); err == nil {
		t.Fatal("served with no NBD network")
	}
}
