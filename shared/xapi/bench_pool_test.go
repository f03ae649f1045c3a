package xapi_test

import (
	"context"
	"testing"

	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// BenchmarkPoolRedirect measures what a 302 to a pool member costs over
// TLS: an export streamed into an unknown-size import, of a VM and onto an
// SR of the master (direct) or of host 2 (both transfers redirected).
func BenchmarkPoolRedirect(b *testing.B) {
	const disk = 64 << 20
	sim, err := xapisim.New(xapisim.Options{Hosts: 2, VMs: 4, User: simUser, Password: simPassword,
		DiskSize: disk, DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	urls, err := sim.StartHosts(0)
	if err != nil {
		b.Fatal(err)
	}
	c, err := xapi.New(urls[0], xapi.WithFingerprint(sim.Fingerprint(0)))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Login(ctx, simUser, simPassword); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name, vm string
		host     int
	}{{"direct", "vm-04", 0}, {"redirected", "vm-03", 1}} { // vm-04 on host 1, vm-03 on host 2 (running)
		var vm xapi.VMRef
		for _, v := range sim.VMs() {
			if v.NameLabel == tc.vm {
				vm = xapi.VMRef(v.Ref)
			}
		}
		if err := c.HardShutdown(ctx, vm); err != nil && !xapi.IsCode(err, xapi.CodeBadPowerState) {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(disk)
			for b.Loop() {
				tr, err := c.Export(ctx, vm, xapi.ExportOptions{})
				if err != nil {
					b.Fatal(err)
				}
				newVM, err := c.Import(ctx, tr, -1, xapi.ImportOptions{SR: xapi.SRRef(sim.LocalSR(tc.host))})
				if err != nil {
					b.Fatal(err)
				}
				_ = tr.Close()
				if err := c.DestroyVM(ctx, newVM); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
