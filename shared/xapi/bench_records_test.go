package xapi_test

import (
	"context"
	"testing"

	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// BenchmarkGetAllRecords measures VM.get_all_records of a 5,000-VM pool
// over XML-RPC and JSON-RPC (the call, the transfer and the decoding into
// records, on loopback; the in-process simulator's encoding is counted too),
// and the pool view's catch-up when nothing changed.
func BenchmarkGetAllRecords(b *testing.B) {
	const vms = 5000
	sim, err := xapisim.New(xapisim.Options{User: simUser, Password: simPassword, VMs: vms, DiskSize: 1 << 20, DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, tr := range transports {
		c, err := xapi.New(url, xapi.WithTransport(tr.tr))
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Login(ctx, simUser, simPassword); err != nil {
			b.Fatal(err)
		}
		b.Run("VM.get_all_records/"+tr.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				recs, err := c.VMs(ctx)
				if err != nil || len(recs) < vms {
					b.Fatalf("%d records, %v", len(recs), err)
				}
			}
		})
		b.Run("CachedVMs-unchanged/"+tr.name, func(b *testing.B) {
			if _, err := c.CachedVMs(ctx); err != nil { // the one full transfer, outside the timing
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				recs, err := c.CachedVMs(ctx)
				if err != nil || len(recs) < vms {
					b.Fatalf("%d records, %v", len(recs), err)
				}
			}
		})
	}
}
