package tests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/shared/catalog/catalogtest"
	"xbr/shared/remote"
	"xbr/shared/testsupport"
	"xbr/shared/xapi/xapisim"
)

// TestXOSeesTheTruthOnASharedRemote is issue 13's acceptance case: Xen Orchestra lists a VM
// once (writing cache.json.gz as it does), then xbr serve runs backups at depth 2 and
// prunes, on a directory remote and on S3. After every run XO's listing rules (the cache
// first, else the folder) give exactly the backups on disk.
func TestXOSeesTheTruthOnASharedRemote(t *testing.T) {
	p := startPool(t, xapisim.Options{VMs: 2, DiskSize: 1 << 20, DisksPerVM: 1})
	dirPath, nfs := dirRemote(t, "nfs")
	gw, s3r := s3Remote(t, "backups")
	cfg := writeFile(t, "xbr.yaml", configYAML(p, fmt.Sprintf(`  - {name: nfs, type: dir, path: %s}
  - {name: gateway, type: s3, endpoint: %s, bucket: backups, access_key: "${XBR_TEST_S3_KEY}", secret_key: "${XBR_TEST_S3_SECRET}"}`,
		dirPath, gw.Endpoint), `  - name: nightly
    mode: full
    pools: [lab]
    remotes: [nfs, gateway]
    compression: none
    schedules:
      - {name: daily, cron: "0 2 * * *", timezone: UTC, retention: 2}`))
	env := []string{"XBR_TEST_POOL_PASSWORD=" + p.pass, "XBR_TEST_S3_KEY=" + gw.AccessKey, "XBR_TEST_S3_SECRET=" + gw.SecretKey}
	s := startServe(t, env, "--config", cfg, "--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	remotes := []remote.Remote{nfs, s3r}
	for run := 1; run <= 4; run++ {
		if out, errOut, code := xbr(t, ctx, nil, "run", "nightly", "--wait", "--nats", s.natsURL(t)); code != 0 {
			t.Fatalf("run %d: exit %d\n%s\n%s\nserver:\n%s", run, code, out, errOut, s.output())
		}
		for _, r := range remotes {
			for _, vm := range p.userVMs() {
				if run == 1 {
					catalogtest.XOListing(t, r, vm.UUID) // XO lists the VM: it writes the cache
					continue
				}
				var xo, disk []string
				testsupport.Eventually(t, time.Minute, fmt.Sprintf("run %d: XO's listing of %s on %s to match the disk", run, vm.NameLabel, r.Name()),
					func() bool {
						xo, disk = catalogtest.XOListing(t, r, vm.UUID), catalogtest.MetadataOnDisk(t, r, vm.UUID)
						return len(disk) == 2 && slices.Equal(xo, disk)
					})
				checkCacheEntries(t, r, vm.UUID)
			}
		}
	}
}

// checkCacheEntries checks each cache entry is its .json plus _filename and id, as XO's.
func checkCacheEntries(t *testing.T, r remote.Remote, vm string) {
	t.Helper()
	entries, ok := catalogtest.XOCacheEntries(t, r, vm)
	if !ok {
		t.Fatalf("%s: no cache for %s", r.Name(), vm)
	}
	for key, e := range entries {
		if e["_filename"] != key || e["id"] != key || e["mode"] != "full" || e["jobId"] == nil || e["vm"] == nil {
			t.Errorf("%s: cache entry %s: _filename %v id %v mode %v", r.Name(), key, e["_filename"], e["id"], e["mode"])
		}
	}
}

// TestVerifySkipsXODeltaAndEncrypted: `xbr verify --remote` on a remote
// holding an XO delta backup, and on an encrypted XO remote, reports each
// backup as skipped with the reason and exits 0.
func TestVerifySkipsXODeltaAndEncrypted(t *testing.T) {
	const vm = "0f5c6f7e-3a4b-4c2d-9e8f-1a2b3c4d5e6f"
	plain, enc := t.TempDir(), t.TempDir()
	delta := `{"mode":"delta","jobId":"j","scheduleId":"s","timestamp":1772330400000,"version":"2.0.0",` +
		`"vm":{"uuid":"` + vm + `"},"vmSnapshot":{},"vhds":{"r":"vdis/j/d/20260301T020000Z.vhd"}}`
	for path, content := range map[string]string{
		filepath.Join(plain, "xo-vm-backups", vm, "20260301T020000Z.json"):         delta,
		filepath.Join(plain, "xo-vm-backups", vm, "vdis/j/d/20260301T020000Z.vhd"): "vhd",
		filepath.Join(enc, "encryption.json"):                                      `{"algorithm":"chacha20-poly1305"}`,
		filepath.Join(enc, "xo-vm-backups", vm, "20260301T020000Z.json"):           "\x01\x02ciphertext",
		filepath.Join(enc, "xo-vm-backups", vm, "20260301T020000Z.xva"):            "\x03ciphertext",
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := writeFile(t, "xbr.yaml", fmt.Sprintf("remotes:\n  - {name: xo, type: dir, path: %s}\n  - {name: xoenc, type: dir, path: %s}\n", plain, enc))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for remoteName, line := range map[string]string{"xo": "XO delta backup: not restorable by xbr yet", "xoenc": "encrypted XO remote"} {
		out, errOut, code := xbr(t, ctx, nil, "verify", "--remote", remoteName, "--config", cfg, "--no-events")
		if code != 0 || !strings.Contains(out, "skipped "+remoteName+":"+vm+"/20260301T020000Z  "+line) ||
			!strings.Contains(out, "0 verified, 0 failed, 1 skipped") {
			t.Errorf("verify --remote %s: exit %d\n%s\n%s", remoteName, code, out, errOut)
		}
	}
}
