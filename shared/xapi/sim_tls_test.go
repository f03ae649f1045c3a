package xapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http/httptest"
	"os"
	"testing"

	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// TestSimOverTLS serves the simulator behind TLS with a self-signed
// certificate, as an XCP-ng host does, and runs a pinned client through
// calls, an export and an unknown-size import (TLS close_notify + half-close).
func TestSimOverTLS(t *testing.T) {
	sim, err := xapisim.New(xapisim.Options{User: simUser, Password: simPassword, DiskSize: simDisk, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	srv := httptest.NewTLSServer(sim.Handler())
	t.Cleanup(srv.Close)
	sum := sha256.Sum256(srv.Certificate().Raw)
	c, err := xapi.New(srv.URL, xapi.WithFingerprint(hex.EncodeToString(sum[:])))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Login(ctx, simUser, simPassword); err != nil {
		t.Fatal(err)
	}
	vm, _ := plainVM(t, c, xapi.Halted)
	want, _ := diskSum(t, c, disksOf(t, c, vm)[0])
	path, _ := exportToFile(t, c, vm, "gzip")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	newVM, err := c.Import(ctx, f, -1, xapi.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := diskSum(t, c, disksOf(t, c, newVM)[0]); got != want {
		t.Fatal("the disk imported over TLS differs from the source")
	}
}
