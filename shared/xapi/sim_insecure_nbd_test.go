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
// and insecure_nbd alike; reference cbt-and-nbd.md §2.1), and xapi-nbd on an
// insecure_nbd pool answers STARTTLS with NBD_REP_ERR_POLICY. So the record
// never decides plain text: the pool's network purposes do (PlainNBD), and
// the export is then read without TLS; on an nbd pool, with it.
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
	read := func(purpose string, wantPlain bool) {
		t.Helper()
		if _, err := c.Call(ctx, "network.add_purpose", network, purpose); err != nil {
			t.Fatal(err)
		}
		infos, err := c.NBDInfo(ctx, disk)
		if err != nil || len(infos) == 0 || infos[0].Cert == "" {
			t.Fatalf("NBDInfo on an %s network: %v %v; want records with the host's certificate, as XAPI sends them", purpose, infos, err)
		}
		nets, err := c.Networks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		info := infos[0]
		if info.Plain = xapi.PlainNBD(nets); info.Plain != wantPlain {
			t.Fatalf("%s network: PlainNBD = %v, want %v", purpose, info.Plain, wantPlain)
		}
		cl, err := nbd.Dial(ctx, info.NBDConfig())
		if err != nil {
			t.Fatalf("dial the export of an %s network from a record as XAPI sends it: %v", purpose, err)
		}
		defer cl.Close()
		if err := cl.Read(ctx, 0, make([]byte, 512)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Call(ctx, "network.remove_purpose", network, purpose); err != nil {
			t.Fatal(err)
		}
	}
	read("nbd", false)
	read("insecure_nbd", true)
}
