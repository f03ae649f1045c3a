package cli_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/remote/dir"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// metaPool is a simulated pool "lab" in a configuration with a dir
// remote "nfs", and its database dump.
type metaPool struct {
	sim  *xapisim.Server
	uuid string // the pool's
	cfg  string // the configuration file
	r    *dir.Dir
	root string // the remote's directory
	data []byte // the pool's dump
}

func newMetaPool(t *testing.T) metaPool {
	t.Helper()
	sim, err := xapisim.New(xapisim.Options{VMs: 1, DiskSize: 1 << 20, DataDir: t.TempDir(), PoolName: "lab"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	u, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	user, pass := sim.Credentials()
	ctx := context.Background()
	c, err := xapi.New(u)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(ctx, user, pass); err != nil {
		t.Fatal(err)
	}
	_, pool, err := c.Pool(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := c.DumpPoolDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	if err == nil {
		err = rc.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	root := filepath.Join(tmp, "remote")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(tmp, "xbr.yaml")
	t.Setenv("XBR_TEST_META_PASSWORD", pass)
	yaml := "pools:\n  - {name: lab, url: " + u + ", username: " + user + ", password: \"${XBR_TEST_META_PASSWORD}\"}\n" +
		"remotes:\n  - {name: nfs, type: dir, path: " + root + "}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := dir.New("nfs", root)
	if err != nil {
		t.Fatal(err)
	}
	return metaPool{sim: sim, uuid: pool.UUID, cfg: cfg, r: r, root: root, data: data}
}

// backup writes p's dump as a backup of the pool poolUUID whose
// metadata.json says it is of the pool recorded; it returns the backup's
// id and the path of its data file.
func (p metaPool) backup(t *testing.T, poolUUID, recorded string) (catalog.PoolMetaID, string) {
	t.Helper()
	at := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	id, err := catalog.NewPoolMetaID("nfs", "5b8e2f1c-7a3d-5e9f-b0c1-d2e3f4a5b6c7", poolUUID, at)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(p.data)
	m := catalog.PoolMetadata{JobID: "j", JobName: "pooldb", Pool: json.RawMessage(`{"name_label":"lab","uuid":"` + recorded + `"}`),
		PoolMaster: json.RawMessage(`{}`), ScheduleID: id.ScheduleID, ScheduleName: "nightly", Timestamp: at.UnixMilli(),
		Version: catalog.PoolMetadataVersion, XBR: &catalog.PoolMetaXBR{Pool: "lab", PoolUUID: recorded,
			Size: int64(len(p.data)), SHA256: hex.EncodeToString(sum[:]), State: catalog.PoolMetaState}}
	if err := catalog.CommitPoolMeta(context.Background(), p.r, id, m); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(p.root, filepath.FromSlash(id.Key(catalog.PoolMetaData)))
	if err := os.WriteFile(path, p.data, 0o644); err != nil {
		t.Fatal(err)
	}
	return id, path
}

// TestRestoreMetadataRefusesADamagedDump: a dump whose bytes no longer
// match the size and SHA-256 its metadata.json records (a byte changed, the
// file cut short) is refused before anything reaches the pool, dry run or
// not; the intact dump goes through.
func TestRestoreMetadataRefusesADamagedDump(t *testing.T) {
	p := newMetaPool(t)
	id, dataPath := p.backup(t, p.uuid, p.uuid)
	data, sim, cfg := p.data, p.sim, p.cfg

	damaged := bytes.Replace(data, []byte(`value="786"`), []byte(`value="787"`), 1) // still a well-formed dump
	if bytes.Equal(damaged, data) {
		t.Fatal("the dump has no schema_minor_vsn 786 to damage")
	}
	end := bytes.LastIndex(data, []byte("</table>"))
	for name, body := range map[string][]byte{"a changed byte": damaged, "cut short": data[:end]} {
		if err := os.WriteFile(dataPath, body, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, extra := range []string{"--dry-run", "--yes-replace-the-pool-database"} {
			code, _, stderr := run(t, "restore-metadata", id.String(), "--pool", "lab", "--config", cfg, extra)
			if code == 0 || !strings.Contains(stderr, id.String()) {
				t.Errorf("dump %s, %s: exit %d, stderr %q; want refused, naming the backup", name, extra, code, stderr)
			}
			if got := sim.DBRestores(); len(got) != 0 {
				t.Fatalf("dump %s, %s: the pool received %+v", name, extra, got)
			}
		}
	}
	if err := os.WriteFile(dataPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "restore-metadata", id.String(), "--pool", "lab", "--config", cfg, "--yes-replace-the-pool-database"); code != 0 {
		t.Fatalf("intact dump: exit %d, stderr %q", code, stderr)
	}
	if got := sim.DBRestores(); len(got) != 1 || got[0].DryRun || got[0].Bytes != int64(len(data)) {
		t.Fatalf("intact dump: the pool received %+v", got)
	}
}

// TestRestoreMetadataChecksThePool: the backup of another pool is refused,
// naming both pools, unless --into-another-pool says so (a freshly
// installed master has a pool of its own); a backup whose metadata.json
// names another pool than its folder (moved or crafted) is refused always.
func TestRestoreMetadataChecksThePool(t *testing.T) {
	p := newMetaPool(t)
	const other = "0d7c5e2a-1b3f-4a6e-9c8d-7e6f5a4b3c2d"
	id, _ := p.backup(t, other, other)
	args := []string{"restore-metadata", id.String(), "--pool", "lab", "--config", p.cfg}
	for _, extra := range []string{"--dry-run", "--yes-replace-the-pool-database"} {
		code, _, stderr := run(t, append(args, extra)...)
		if code != 2 || !strings.Contains(stderr, other) || !strings.Contains(stderr, p.uuid) || !strings.Contains(stderr, "--into-another-pool") {
			t.Errorf("backup of another pool, %s: exit %d, stderr %q; want refused naming both pools", extra, code, stderr)
		}
		if got := p.sim.DBRestores(); len(got) != 0 {
			t.Fatalf("backup of another pool, %s: the pool received %+v", extra, got)
		}
	}
	if code, _, stderr := run(t, append(args, "--yes-replace-the-pool-database", "--into-another-pool")...); code != 0 {
		t.Fatalf("backup of another pool with --into-another-pool: exit %d, stderr %q", code, stderr)
	}
	if got := p.sim.DBRestores(); len(got) != 1 {
		t.Fatalf("backup of another pool with --into-another-pool: the pool received %+v", got)
	}

	crafted, _ := p.backup(t, p.uuid, other) // the folder says lab, its metadata.json the other pool
	for _, extra := range [][]string{{"--dry-run"}, {"--yes-replace-the-pool-database", "--into-another-pool"}} {
		code, _, stderr := run(t, append([]string{"restore-metadata", crafted.String(), "--pool", "lab", "--config", p.cfg}, extra...)...)
		if code == 0 || !strings.Contains(stderr, other) {
			t.Errorf("crafted backup, %v: exit %d, stderr %q; want refused", extra, code, stderr)
		}
	}
	if got := p.sim.DBRestores(); len(got) != 1 {
		t.Fatalf("crafted backup: the pool received %+v", got[1:])
	}
}
