package xapi_test

import (
	"context"
	"testing"

	"xbr/shared/nbd"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// TestInsecureNBDRecordAsXAPISendsIt: XAPI's VDI.get_nbd_info puts the
// host's certificate in every record, whatever the network's purpose
// (xapi_vdi.ml _get_nbd_info: cert = get_server_certificate ~host, for nbd
// and insecure_nbd alike; reference cbt-and-nbd.md §2.1). On a pool whose
// NBD network is insecure_nbd, xapi-nbd serves without TLS and answers
// STARTTLS with NBD_REP_ERR_POLICY. The record's NBDConfig must still reach
// the export; today it asks for TLS because the cert is not empty, so every
// cbt run on such a pool falls back to a full scan (no-nbd). The simulator
// hides it by leaving cert empty on insecure_nbd.
func TestInsecureNBDRecordAsXAPISendsIt(t *testing.T) {
	_, url := startSim(t, xapisim.Options{VMs: 2})
	c := connect(t, url, xapi.JSONRPC)
	ctx := context.Background()
	vm, _ := plainVM(t, c, xapi.Halted)
	disk := disksOf(t, c, vm)[0]
	nets, err := c.Networks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var network xapi.NetworkRef
	for ref := range nets {
		network = ref
	}
	// The host's certificate, as get_nbd_info returns it on any NBD network.
	if _, err := c.Call(ctx, "network.add_purpose", network, "nbd"); err != nil {
		t.Fatal(err)
	}
	secure, err := c.NBDInfo(ctx, disk)
	if err != nil || len(secure) == 0 || secure[0].Cert == "" {
		t.Fatalf("NBDInfo on an nbd network: %v %v", secure, err)
	}
	if _, err := c.Call(ctx, "network.remove_purpose", network, "nbd"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Call(ctx, "network.add_purpose", network, "insecure_nbd"); err != nil {
		t.Fatal(err)
	}
	infos, err := c.NBDInfo(ctx, disk)
	if err != nil || len(infos) == 0 {
		t.Fatalf("NBDInfo on an insecure_nbd network: %v %v", infos, err)
	}
	info := infos[0]
	info.Cert = secure[0].Cert // what XAPI sends on this network too
	cl, err := nbd.Dial(ctx, info.NBDConfig())
	if err != nil {
		t.Fatalf("dial an insecure_nbd export from a record as XAPI sends it: %v", err)
	}
	defer cl.Close()
	if err := cl.Read(ctx, 0, make([]byte, 512)); err != nil {
		t.Fatal(err)
	}
}
