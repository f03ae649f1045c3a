package xapi_test

import (
	"context"
	"io"
	"testing"

	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// BenchmarkExportImport measures the client's streaming paths against the
// simulator on loopback: an uncompressed export, and an unknown-size import.
func BenchmarkExportImport(b *testing.B) {
	const disk = 256 << 20
	sim, err := xapisim.New(xapisim.Options{User: simUser, Password: simPassword, DiskSize: disk, VMs: 1, DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	c, _ := xapi.New(url)
	ctx := context.Background()
	if err := c.Login(ctx, simUser, simPassword); err != nil {
		b.Fatal(err)
	}
	vms, _ := c.VMs(ctx)
	var vm xapi.VMRef
	for ref, rec := range vms {
		if !rec.IsATemplate && !rec.IsControlDomain {
			vm = ref
		}
	}
	if err := c.HardShutdown(ctx, vm); err != nil {
		b.Fatal(err)
	}
	b.Run("export", func(b *testing.B) {
		b.SetBytes(disk)
		for b.Loop() {
			tr, err := c.Export(ctx, vm, xapi.ExportOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.Copy(io.Discard, tr); err != nil {
				b.Fatal(err)
			}
			_ = tr.Close()
		}
	})
	b.Run("export-import", func(b *testing.B) {
		b.SetBytes(disk)
		for b.Loop() {
			tr, err := c.Export(ctx, vm, xapi.ExportOptions{})
			if err != nil {
				b.Fatal(err)
			}
			newVM, err := c.Import(ctx, tr, -1, xapi.ImportOptions{})
			_ = tr.Close()
			if err != nil {
				b.Fatal(err)
			}
			if err := c.DestroyVM(ctx, newVM); err != nil {
				b.Fatal(err)
			}
		}
	})
}
