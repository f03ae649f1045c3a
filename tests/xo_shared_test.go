package tests

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"xbr/shared/catalog/catalogtest"
	"xbr/shared/remote"
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
				eventually(t, time.Minute, fmt.Sprintf("run %d: XO's listing of %s on %s to match the disk", run, vm.NameLabel, r.Name()),
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
