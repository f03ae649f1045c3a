package external_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/shared/testsupport"
	"xbr/shared/xapi/xapisim"
)

// nodeModules finds the npm packages scripts/tool-xen-api.sh installed; a
// missing prerequisite fails under XBR_TEST_NO_SKIP=1 and skips otherwise.
func nodeModules(t *testing.T) (node, modules string) {
	t.Helper()
	missing := func(what string) { testsupport.Missing(t, "%s (run scripts/tool-xen-api.sh)", what) }
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	modules = os.Getenv("XBR_NODE_MODULES")
	if modules == "" {
		modules, _ = filepath.Abs("../../.cache/tools/npm/node_modules")
	}
	if _, err := os.Stat(filepath.Join(modules, "xen-api", "index.mjs")); err != nil {
		missing("npm xen-api is not installed in " + modules)
	}
	return node, modules
}

type checkResult struct {
	VM, Snapshot, Imported, Transport string
	VMs                               int
}

func TestNpmXenAPIClient(t *testing.T) {
	node, modules := nodeModules(t)
	for _, tc := range []struct{ transport, compression string }{
		{"auto", "zstd"},    // JSON-RPC first, as XO connects
		{"xml-rpc", "true"}, // the XML-RPC transport, gzip export
		{"json-rpc", "false"},
	} {
		t.Run(tc.transport, func(t *testing.T) {
			sim, err := xapisim.New(xapisim.Options{VMs: 3, DisksPerVM: 2, DiskSize: 6<<20 + 4096, DataDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			url, err := sim.Start("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = sim.Close() })
			user, pass := sim.Credentials()

			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, node, "xenapi-check.mjs", url, user, pass, tc.transport, "vm-01", tc.compression)
			cmd.Env = append(os.Environ(), "XBR_NODE_MODULES="+modules, "NODE_PATH="+modules)
			cmd.WaitDelay = 5 * time.Second
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("node: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
			}
			var res checkResult
			lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
				t.Fatalf("node output %q: %v (stderr %s)", stdout.String(), err, stderr.String())
			}
			assertImport(t, sim, res)
			requests := sim.Requests()
			wantPath := map[string]string{"auto": "/jsonrpc", "json-rpc": "/jsonrpc", "xml-rpc": "/xmlrpc"}[tc.transport]
			if requests[wantPath] == 0 || requests["/export/"] != 1 || requests["/import/"] != 2 {
				t.Fatalf("requests %v: want RPC on %s, one export and two imports (probe + upload)", requests, wantPath)
			}
		})
	}
}

// assertImport checks the client saw the pool and that the VM it imported
// has the original VM's disks, byte for byte.
func assertImport(t *testing.T, sim *xapisim.Server, res checkResult) {
	t.Helper()
	if res.VMs != 3 {
		t.Errorf("client listed %d VMs, want 3", res.VMs)
	}
	orig, err := sim.VM(res.VM)
	if err != nil {
		t.Fatal(err)
	}
	imp, err := sim.VM(res.Imported)
	if err != nil {
		t.Fatal(err)
	}
	if imp.PowerState != "Halted" || len(imp.VDIs) != len(orig.VDIs) || len(orig.VDIs) != 2 {
		t.Fatalf("imported VM %+v, original %+v", imp, orig)
	}
	for i := range orig.VDIs {
		if !sameContent(t, sim, orig.VDIs[i], imp.VDIs[i]) {
			t.Fatalf("disk %d of the imported VM differs from the original", i)
		}
	}
}

func sameContent(t *testing.T, sim *xapisim.Server, a, b string) bool {
	t.Helper()
	ra, na, err := sim.VDIContent(a)
	if err != nil {
		t.Fatal(err)
	}
	rb, nb, err := sim.VDIContent(b)
	if err != nil {
		t.Fatal(err)
	}
	if na != nb {
		return false
	}
	ba, _ := io.ReadAll(ra)
	bb, _ := io.ReadAll(rb)
	return int64(len(ba)) == na && bytes.Equal(ba, bb)
}
